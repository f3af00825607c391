/* Any CRI message as JSON, from protobuf-c's descriptors: the field names of the .proto, values left at their
 * default left out (as the Go structs' `omitempty` tags print them), maps as objects, enums as numbers. For the
 * `config` of the verbose status info. */
#include <stdint.h>
#include <string.h>

#include "common/util.h"
#include "daemon/api/cri/cri_internal.h"

static json_t *value_json(const ProtobufCFieldDescriptor *f, const void *p)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_ENUM:
        return json_integer(*(const int32_t *)p);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return json_integer(*(const uint32_t *)p);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return json_integer(*(const int64_t *)p);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return json_integer((json_int_t) * (const uint64_t *)p);
    case PROTOBUF_C_TYPE_BOOL:
        return json_boolean(*(const protobuf_c_boolean *)p);
    case PROTOBUF_C_TYPE_FLOAT:
        return json_real(*(const float *)p);
    case PROTOBUF_C_TYPE_DOUBLE:
        return json_real(*(const double *)p);
    case PROTOBUF_C_TYPE_STRING:
        return json_string(*(char *const *)p != NULL ? *(char *const *)p : "");
    case PROTOBUF_C_TYPE_BYTES:
        return json_stringn((const char *)((const ProtobufCBinaryData *)p)->data,
                            ((const ProtobufCBinaryData *)p)->len);
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(ProtobufCMessage *const *)p != NULL ? cri_message_json(*(ProtobufCMessage *const *)p) : json_null();
    }
    return json_null();
}

static size_t elem_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return 8;
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    default:
        return 4;
    }
}

/* A map<..> field is a repeated message "<Name>Entry" of the fields key and value. */
static bool is_map(const ProtobufCFieldDescriptor *f)
{
    const ProtobufCMessageDescriptor *m =
        f->type == PROTOBUF_C_TYPE_MESSAGE ? (const ProtobufCMessageDescriptor *)f->descriptor : NULL;
    return m != NULL && m->n_fields == 2 && streq(m->fields[0].name, "key") && streq(m->fields[1].name, "value") &&
           str_has_suffix(m->short_name, "Entry");
}

static json_t *repeated_json(const ProtobufCFieldDescriptor *f, const void *arr, size_t n)
{
    if (is_map(f)) {
        json_t *o = json_object();
        for (size_t i = 0; i < n; i++) {
            const struct cri_kv *e = ((struct cri_kv *const *)arr)[i];
            const ProtobufCMessageDescriptor *md = f->descriptor;
            const ProtobufCFieldDescriptor *vf = &md->fields[1];
            json_object_set_new(o, e->key != NULL ? e->key : "", value_json(vf, (const char *)e + vf->offset));
        }
        return o;
    }
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, value_json(f, (const char *)arr + i * elem_size(f->type)));
    return a;
}

static bool is_default(const ProtobufCFieldDescriptor *f, const void *p)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
        return *(char *const *)p == NULL || **(char *const *)p == '\0';
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(void *const *)p == NULL;
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *)p)->len == 0;
    default: {
        static const char zero[8];
        return memcmp(p, zero, elem_size(f->type)) == 0;
    }
    }
}

json_t *cri_message_json(const ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *desc = m->descriptor;
    json_t *o = json_object();
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        const void *member = (const char *)m + f->offset;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
            if (n > 0)
                json_object_set_new(o, f->name, repeated_json(f, *(void *const *)member, n));
            continue;
        }
        if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset != 0 && f->type != PROTOBUF_C_TYPE_MESSAGE &&
            f->type != PROTOBUF_C_TYPE_STRING && !*(const protobuf_c_boolean *)((const char *)m + f->quantifier_offset))
            continue;
        if (f->label != PROTOBUF_C_LABEL_OPTIONAL && is_default(f, member))
            continue;
        json_object_set_new(o, f->name, value_json(f, member));
    }
    return o;
}

json_t *cri_map_json(void *const *kv, size_t n)
{
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++) {
        const struct cri_kv *e = kv[i];
        json_object_set_new(o, e->key, json_string(e->value));
    }
    return o;
}

json_t *cri_strv_json(char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

json_t *cri_json_text(json_t *j)
{
    cleanup_free char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    return json_string(text);
}
