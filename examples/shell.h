/*
 * The examples' network shell (--shell): commands on standard input, answers
 * on standard output, run between rounds of the real-time run. The commands
 * and their output formats are listed in shell.c.
 */
#ifndef TERN_EXAMPLE_SHELL_H
#define TERN_EXAMPLE_SHELL_H

#include <stdint.h>

#include "common.h"

/* ex_shell_start: make standard input non-blocking and start reading commands. */
void ex_shell_start(void);

/* ex_shell_step: read and run the commands that arrived, go on with a ping in progress. */
void ex_shell_step(ex_net *n, uint64_t now);

#endif
