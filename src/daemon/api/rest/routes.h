/* Route handlers of the REST adapter (one per Docker API endpoint). */
#ifndef ISD_DAEMON_API_REST_ROUTES_H
#define ISD_DAEMON_API_REST_ROUTES_H

#include "daemon/api/rest/request.h"

void h_ping(struct request *rq, const char *arg);
void h_version(struct request *rq, const char *arg);
void h_info(struct request *rq, const char *arg);
void h_container_create(struct request *rq, const char *arg);
void h_container_list(struct request *rq, const char *arg);
void h_container_inspect(struct request *rq, const char *arg);
void h_container_start(struct request *rq, const char *arg);
void h_container_stop(struct request *rq, const char *arg);
void h_container_restart(struct request *rq, const char *arg);
void h_container_kill(struct request *rq, const char *arg);
void h_container_pause(struct request *rq, const char *arg);
void h_container_unpause(struct request *rq, const char *arg);
void h_container_rename(struct request *rq, const char *arg);
void h_container_update(struct request *rq, const char *arg);
void h_container_remove(struct request *rq, const char *arg);
void h_container_resize(struct request *rq, const char *arg);
void h_container_wait(struct request *rq, const char *arg);
void h_container_logs(struct request *rq, const char *arg);
void h_container_top(struct request *rq, const char *arg);
void h_container_stats(struct request *rq, const char *arg);
void h_events(struct request *rq, const char *arg);
void h_container_export(struct request *rq, const char *arg);
void h_volume_list(struct request *rq, const char *arg);
void h_volume_create(struct request *rq, const char *arg);
void h_volume_inspect(struct request *rq, const char *arg);
void h_volume_remove(struct request *rq, const char *arg);
void h_volume_prune(struct request *rq, const char *arg);
void h_container_changes(struct request *rq, const char *arg);
void h_commit(struct request *rq, const char *arg);
void h_container_archive_head(struct request *rq, const char *arg);
void h_container_archive_get(struct request *rq, const char *arg);
void h_container_archive_put(struct request *rq, const char *arg);
void h_container_attach(struct request *rq, const char *arg);
void h_image_list(struct request *rq, const char *arg);
void h_image_inspect(struct request *rq, const char *arg);
void h_image_remove(struct request *rq, const char *arg);
void h_image_tag(struct request *rq, const char *arg);
void h_image_load(struct request *rq, const char *arg);
void h_image_create(struct request *rq, const char *arg);
void h_image_pull(struct request *rq, const char *arg);
void h_auth_login(struct request *rq, const char *arg);
void h_auth_logout(struct request *rq, const char *arg);
void h_image_save(struct request *rq, const char *arg);
void h_image_history(struct request *rq, const char *arg);
void h_image_load_embedded(struct request *rq, const char *arg);
void h_network_create(struct request *rq, const char *arg);
void h_network_list(struct request *rq, const char *arg);
void h_network_inspect(struct request *rq, const char *arg);
void h_network_remove(struct request *rq, const char *arg);
void h_network_connect(struct request *rq, const char *arg);
void h_network_disconnect(struct request *rq, const char *arg);
void h_network_prune(struct request *rq, const char *arg);
void h_exec_create(struct request *rq, const char *arg);
void h_exec_start(struct request *rq, const char *arg);
void h_exec_inspect(struct request *rq, const char *arg);
void h_exec_resize(struct request *rq, const char *arg);
void h_container_prune(struct request *rq, const char *arg);
void h_image_prune(struct request *rq, const char *arg);
void h_system_df(struct request *rq, const char *arg);
/* A Docker API endpoint that isulad does not serve (routes_unserved.c): answered 501. */
bool routes_is_unserved(const char *method, const char *path);

#endif
