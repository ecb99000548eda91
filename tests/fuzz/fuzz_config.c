/*
 * fuzz_config.c - libFuzzer target: arbitrary bytes as config file text.
 *
 * config_parse_text() must accept or refuse any text without crashing or leaking; on
 * refusal the message names a line inside the text. When it accepts, config_dump() must
 * be a fixed point: the dump parses back, and the dump of what it parses to is the same
 * text. config_validate() and config_dump() also run on whatever a failed parse left.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                          \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "fuzz_config: check failed: %s (line %d)\n", #cond,  \
				__LINE__);                                                   \
			abort();                                                             \
		}                                                                            \
	} while (0)

/* Lines in text: the number of '\n' plus one for an unterminated last line. */
static unsigned count_lines(const char *text, size_t len)
{
	unsigned n = 0;

	for (size_t i = 0; i < len; i++)
		n += text[i] == '\n';
	return n + (len && text[len - 1] != '\n');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct config c, back;
	char msg[256] = "";
	unsigned line = 0;
	char *dump, *again;
	int r;

	config_init(&c);
	r = config_parse_text(&c, text, size, &line, msg, sizeof(msg));
	(void)config_validate(&c, msg, sizeof(msg));
	dump = config_dump(&c);
	CHECK(dump);
	if (r < 0) {
		CHECK(r == -EINVAL);
		CHECK(line >= 1 && line <= count_lines(text, size));
		CHECK(msg[0] != '\0');
		goto out;
	}
	CHECK(r == 0);

	config_init(&back);
	line = 0;
	r = config_parse_text(&back, dump, strlen(dump), &line, msg, sizeof(msg));
	if (r != 0) {
		fprintf(stderr, "fuzz_config: the dump does not parse: line %u: %s\n%s", line,
			msg, dump);
		abort();
	}
	again = config_dump(&back);
	CHECK(again);
	if (strcmp(dump, again) != 0) {
		fprintf(stderr, "fuzz_config: dump -> parse -> dump differs:\n--- first\n%s"
			"--- second\n%s", dump, again);
		abort();
	}
	free(again);
	config_free(&back);
out:
	free(dump);
	config_free(&c);
	return 0;
}
