/* The tables generated from TERN_ERROR_LIST (see tern/errors.h). */
#include "tern/errors.h"

#include <stddef.h>

struct error_entry {
    int code;
    const char *name;
    const char *pyclass;
    const char *text;
};

static const struct error_entry error_table[] = {
#define TERN_ERR_ROW_(name, value, pyclass, text) {value, #name, #pyclass, text},
    TERN_ERROR_LIST(TERN_ERR_ROW_)
#undef TERN_ERR_ROW_
};

static const struct error_entry *find_error(int err) {
    for (size_t i = 0; i < sizeof error_table / sizeof error_table[0]; i++) {
        if (error_table[i].code == err) {
            return &error_table[i];
        }
    }
    return NULL;
}

const char *tern_strerror(int err) {
    const struct error_entry *e = find_error(err);
    return e ? e->text : "unknown error";
}

const char *tern_error_name(int err) {
    const struct error_entry *e = find_error(err);
    return e ? e->name : NULL;
}

const char *tern_error_pyclass(int err) {
    const struct error_entry *e = find_error(err);
    return e ? e->pyclass : NULL;
}
