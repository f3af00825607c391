/* CDI spec files: the YAML reader and the spec check (a JSON text is YAML too), then the edits applied to a spec. */
#include "common/json.h"
#include "daemon/spec/spec_cdi.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct isd_error *err = NULL;
    json_t *spec = spec_cdi_yaml_parse((const char *)data, size, &err);
    if (spec != NULL && cdi_spec_check(spec, &err) == 0) {
        json_t *oci = json_object();
        json_t *edits = json_array();
        size_t i;
        json_t *dev;
        if (json_object_get(spec, "containerEdits") != NULL)
            json_array_append(edits, json_object_get(spec, "containerEdits"));
        json_array_foreach(json_object_get(spec, "devices"), i, dev)
        {
            if (json_object_get(dev, "containerEdits") != NULL)
                json_array_append(edits, json_object_get(dev, "containerEdits"));
        }
        cdi_edits_apply(oci, edits, &err);
        json_decref(edits);
        json_decref(oci);
    }
    json_decref(spec);
    isd_error_free(err);
    return 0;
}
