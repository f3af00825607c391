/* The shapes of the Docker API bodies the REST adapter decodes (Go's types, as the docker daemon decodes
 * them strictly): create, exec create and start, auth, load-embedded. Static, read-only. */
#ifndef ISD_DAEMON_API_REST_BODY_TYPES_H
#define ISD_DAEMON_API_REST_BODY_TYPES_H

#include "common/json_check.h"

extern const struct json_type rest_create_body;
extern const struct json_type rest_update_body;
extern const struct json_type rest_exec_create_body;
extern const struct json_type rest_exec_start_body;
extern const struct json_type rest_auth_body;
extern const struct json_type rest_load_embedded_body;
extern const struct json_type rest_network_create_body;
extern const struct json_type rest_volume_create_body;
extern const struct json_type rest_network_connect_body;
extern const struct json_type rest_network_disconnect_body;

#endif
