/* Member lists follow moby's api/types (container.Config, container.HostConfig, network.NetworkingConfig,
 * types.ExecConfig, types.AuthConfig) plus the isula extensions of docs/api.md. */
#include "daemon/api/rest/body_types.h"

static const struct json_member healthcheck_members[] = {
    {"Test", &json_t_strv},
    {"Interval", &json_t_int},
    {"Timeout", &json_t_int},
    {"StartPeriod", &json_t_int},
    {"Retries", &json_t_int},
    {"ExitOnUnhealthy", &json_t_bool},
    {NULL, NULL},
};
static const struct json_type healthcheck = {JSON_K_OBJECT, "container.HealthConfig", NULL, healthcheck_members};

static const struct json_member log_config_members[] = {
    {"Type", &json_t_string}, {"Config", &json_t_strmap}, {NULL, NULL}};
static const struct json_type log_config = {JSON_K_OBJECT, "container.LogConfig", NULL, log_config_members};

static const struct json_member port_binding_members[] = {
    {"HostIp", &json_t_string}, {"HostPort", &json_t_string}, {NULL, NULL}};
static const struct json_type port_binding = {JSON_K_OBJECT, "nat.PortBinding", NULL, port_binding_members};
static const struct json_type port_bindings_list = {JSON_K_ARRAY, "[]nat.PortBinding", &port_binding, NULL};
static const struct json_type port_map = {JSON_K_MAP, "nat.PortMap", &port_bindings_list, NULL};

static const struct json_member restart_members[] = {
    {"Name", &json_t_string}, {"MaximumRetryCount", &json_t_int}, {NULL, NULL}};
static const struct json_type restart_policy = {JSON_K_OBJECT, "container.RestartPolicy", NULL, restart_members};

static const struct json_member device_members[] = {{"PathOnHost", &json_t_string},
                                                    {"PathInContainer", &json_t_string},
                                                    {"CgroupPermissions", &json_t_string},
                                                    {NULL, NULL}};
static const struct json_type device = {JSON_K_OBJECT, "container.DeviceMapping", NULL, device_members};
static const struct json_type devices = {JSON_K_ARRAY, "[]container.DeviceMapping", &device, NULL};

static const struct json_member ulimit_members[] = {
    {"Name", &json_t_string}, {"Soft", &json_t_int}, {"Hard", &json_t_int}, {NULL, NULL}};
static const struct json_type ulimit = {JSON_K_OBJECT, "units.Ulimit", NULL, ulimit_members};
static const struct json_type ulimits = {JSON_K_ARRAY, "[]*units.Ulimit", &ulimit, NULL};

static const struct json_member throttle_members[] = {{"Path", &json_t_string}, {"Rate", &json_t_uint}, {NULL, NULL}};
static const struct json_type throttle = {JSON_K_OBJECT, "blkiodev.ThrottleDevice", NULL, throttle_members};
static const struct json_type throttles = {JSON_K_ARRAY, "[]*blkiodev.ThrottleDevice", &throttle, NULL};

static const struct json_member weight_device_members[] = {
    {"Path", &json_t_string}, {"Weight", &json_t_uint}, {NULL, NULL}};
static const struct json_type weight_device = {JSON_K_OBJECT, "blkiodev.WeightDevice", NULL, weight_device_members};
static const struct json_type weight_devices = {JSON_K_ARRAY, "[]*blkiodev.WeightDevice", &weight_device, NULL};

static const struct json_member hugetlb_members[] = {
    {"PageSize", &json_t_string}, {"Limit", &json_t_uint}, {NULL, NULL}};
static const struct json_type hugetlb = {JSON_K_OBJECT, "container.Hugetlb", NULL, hugetlb_members};
static const struct json_type hugetlbs = {JSON_K_ARRAY, "[]container.Hugetlb", &hugetlb, NULL};

static const struct json_member bind_options_members[] = {
    {"Propagation", &json_t_string},
    {"NonRecursive", &json_t_bool},
    {"ReadOnlyNonRecursive", &json_t_bool},
    {"ReadOnlyForceRecursive", &json_t_bool},
    {"Relabel", &json_t_string}, /* isula extension: z or Z, as -v's mode */
    {NULL, NULL}};
static const struct json_member tmpfs_options_members[] = {
    {"SizeBytes", &json_t_int}, {"Mode", &json_t_uint}, {NULL, NULL}};
static const struct json_member volume_options_members[] = {
    {"NoCopy", &json_t_bool}, {"Labels", &json_t_strmap}, {"DriverConfig", &json_t_any}, {NULL, NULL}};
static const struct json_type bind_options = {JSON_K_OBJECT, "mount.BindOptions", NULL, bind_options_members};
static const struct json_type tmpfs_options = {JSON_K_OBJECT, "mount.TmpfsOptions", NULL, tmpfs_options_members};
static const struct json_type volume_options = {JSON_K_OBJECT, "mount.VolumeOptions", NULL, volume_options_members};
static const struct json_member mount_members[] = {
    {"Type", &json_t_string},           {"Source", &json_t_string},       {"Target", &json_t_string},
    {"ReadOnly", &json_t_bool},         {"Consistency", &json_t_string},  {"BindOptions", &bind_options},
    {"VolumeOptions", &volume_options}, {"TmpfsOptions", &tmpfs_options}, {NULL, NULL},
};
static const struct json_type mount = {JSON_K_OBJECT, "mount.Mount", NULL, mount_members};
static const struct json_type mounts = {JSON_K_ARRAY, "[]mount.Mount", &mount, NULL};
static const struct json_type console_size = {JSON_K_ARRAY, "[2]uint", &json_t_uint, NULL};

/* container.HostConfig with container.Resources inline, and the isula extensions. */
static const struct json_member host_config_members[] = {
    {"Binds", &json_t_strv},
    {"ContainerIDFile", &json_t_string},
    {"LogConfig", &log_config},
    {"NetworkMode", &json_t_string},
    {"PortBindings", &port_map},
    {"RestartPolicy", &restart_policy},
    {"AutoRemove", &json_t_bool},
    {"VolumeDriver", &json_t_string},
    {"VolumesFrom", &json_t_strv},
    {"CapAdd", &json_t_str_or_strv},
    {"CapDrop", &json_t_str_or_strv},
    {"CgroupnsMode", &json_t_string},
    {"Dns", &json_t_strv},
    {"DnsOptions", &json_t_strv},
    {"DnsSearch", &json_t_strv},
    {"ExtraHosts", &json_t_strv},
    {"GroupAdd", &json_t_strv},
    {"IpcMode", &json_t_string},
    {"Cgroup", &json_t_string},
    {"Links", &json_t_strv},
    {"OomScoreAdj", &json_t_int},
    {"PidMode", &json_t_string},
    {"Privileged", &json_t_bool},
    {"PublishAllPorts", &json_t_bool},
    {"ReadonlyRootfs", &json_t_bool},
    {"SecurityOpt", &json_t_strv},
    {"StorageOpt", &json_t_strmap},
    {"Tmpfs", &json_t_strmap},
    {"UTSMode", &json_t_string},
    {"UsernsMode", &json_t_string},
    {"UserRemap", &json_t_string},
    {"ShmSize", &json_t_int},
    {"Sysctls", &json_t_strmap},
    {"Runtime", &json_t_string},
    {"ConsoleSize", &console_size},
    {"Isolation", &json_t_string},
    {"CpuShares", &json_t_int},
    {"Memory", &json_t_int},
    {"NanoCpus", &json_t_int},
    {"CgroupParent", &json_t_string},
    {"BlkioWeight", &json_t_uint},
    {"BlkioWeightDevice", &weight_devices},
    {"BlkioDeviceReadBps", &throttles},
    {"BlkioDeviceWriteBps", &throttles},
    {"BlkioDeviceReadIOps", &throttles},
    {"BlkioDeviceWriteIOps", &throttles},
    {"CpuPeriod", &json_t_int},
    {"CpuQuota", &json_t_int},
    {"CpuRealtimePeriod", &json_t_int},
    {"CpuRealtimeRuntime", &json_t_int},
    {"CpusetCpus", &json_t_string},
    {"CpusetMems", &json_t_string},
    {"Devices", &devices},
    {"DeviceCgroupRules", &json_t_strv},
    {"KernelMemory", &json_t_int},
    {"KernelMemoryTCP", &json_t_int},
    {"MemoryReservation", &json_t_int},
    {"MemorySwap", &json_t_int},
    {"MemorySwappiness", &json_t_int},
    {"OomKillDisable", &json_t_bool},
    {"PidsLimit", &json_t_int},
    {"Ulimits", &ulimits},
    {"CpuCount", &json_t_int},
    {"CpuPercent", &json_t_int},
    {"Mounts", &mounts},
    {"MaskedPaths", &json_t_strv},
    {"ReadonlyPaths", &json_t_strv},
    {"Init", &json_t_bool},
    {"Annotations", &json_t_strmap},
    {"HookSpec", &json_t_string},
    {"FilesLimit", &json_t_int},
    {"Hugetlbs", &hugetlbs},
    {NULL, NULL},
};
static const struct json_type host_config = {JSON_K_OBJECT, "container.HostConfig", NULL, host_config_members};

static const struct json_member ipam_members[] = {
    {"IPv4Address", &json_t_string}, {"IPv6Address", &json_t_string}, {"LinkLocalIPs", &json_t_strv}, {NULL, NULL}};
static const struct json_type ipam = {JSON_K_OBJECT, "network.EndpointIPAMConfig", NULL, ipam_members};
static const struct json_member endpoint_members[] = {
    {"IPAMConfig", &ipam},
    {"Links", &json_t_strv},
    {"Aliases", &json_t_strv},
    {"NetworkID", &json_t_string},
    {"EndpointID", &json_t_string},
    {"Gateway", &json_t_string},
    {"IPAddress", &json_t_string},
    {"IPPrefixLen", &json_t_int},
    {"IPv6Gateway", &json_t_string},
    {"GlobalIPv6Address", &json_t_string},
    {"GlobalIPv6PrefixLen", &json_t_int},
    {"MacAddress", &json_t_string},
    {"DriverOpts", &json_t_strmap},
    {NULL, NULL},
};
static const struct json_type endpoint = {JSON_K_OBJECT, "network.EndpointSettings", NULL, endpoint_members};
static const struct json_type endpoints = {JSON_K_MAP, "map[string]*network.EndpointSettings", &endpoint, NULL};
static const struct json_member networking_members[] = {{"EndpointsConfig", &endpoints}, {NULL, NULL}};
static const struct json_type networking_config = {JSON_K_OBJECT, "network.NetworkingConfig", NULL, networking_members};

static const struct json_member create_members[] = {
    /* container.Config: the top level of the create body */
    {"Hostname", &json_t_string},
    {"Domainname", &json_t_string},
    {"User", &json_t_string},
    {"AttachStdin", &json_t_bool},
    {"AttachStdout", &json_t_bool},
    {"AttachStderr", &json_t_bool},
    {"ExposedPorts", &json_t_emptymap},
    {"Tty", &json_t_bool},
    {"OpenStdin", &json_t_bool},
    {"StdinOnce", &json_t_bool},
    {"Env", &json_t_strv},
    {"Cmd", &json_t_str_or_strv},
    {"Healthcheck", &healthcheck},
    {"ArgsEscaped", &json_t_bool},
    {"Image", &json_t_string},
    {"Volumes", &json_t_emptymap},
    {"WorkingDir", &json_t_string},
    {"Entrypoint", &json_t_str_or_strv},
    {"NetworkDisabled", &json_t_bool},
    {"MacAddress", &json_t_string},
    {"OnBuild", &json_t_strv},
    {"Labels", &json_t_strmap},
    {"StopSignal", &json_t_string},
    {"StopTimeout", &json_t_int},
    {"Shell", &json_t_strv},
    {"ExternalRootfs", &json_t_string},
    {"HostConfig", &host_config},
    {"NetworkingConfig", &networking_config},
    {NULL, NULL},
};
const struct json_type rest_create_body = {JSON_K_OBJECT, "container.Config", NULL, create_members};

/* container.UpdateConfig: container.Resources inline and the restart policy. */
static const struct json_member update_members[] = {
    {"CpuShares", &json_t_int},
    {"Memory", &json_t_int},
    {"NanoCpus", &json_t_int},
    {"CgroupParent", &json_t_string},
    {"BlkioWeight", &json_t_uint},
    {"BlkioWeightDevice", &weight_devices},
    {"BlkioDeviceReadBps", &throttles},
    {"BlkioDeviceWriteBps", &throttles},
    {"BlkioDeviceReadIOps", &throttles},
    {"BlkioDeviceWriteIOps", &throttles},
    {"CpuPeriod", &json_t_int},
    {"CpuQuota", &json_t_int},
    {"CpuRealtimePeriod", &json_t_int},
    {"CpuRealtimeRuntime", &json_t_int},
    {"CpusetCpus", &json_t_string},
    {"CpusetMems", &json_t_string},
    {"Devices", &devices},
    {"DeviceCgroupRules", &json_t_strv},
    {"DeviceRequests", &json_t_any},
    {"KernelMemory", &json_t_int},
    {"KernelMemoryTCP", &json_t_int},
    {"MemoryReservation", &json_t_int},
    {"MemorySwap", &json_t_int},
    {"MemorySwappiness", &json_t_int},
    {"OomKillDisable", &json_t_bool},
    {"PidsLimit", &json_t_int},
    {"Ulimits", &ulimits},
    {"CpuCount", &json_t_int},
    {"CpuPercent", &json_t_int},
    {"IOMaximumIOps", &json_t_uint},
    {"IOMaximumBandwidth", &json_t_uint},
    {"RestartPolicy", &restart_policy},
    {NULL, NULL},
};
const struct json_type rest_update_body = {JSON_K_OBJECT, "container.UpdateConfig", NULL, update_members};

static const struct json_member exec_create_members[] = {
    {"User", &json_t_string},
    {"Privileged", &json_t_bool},
    {"Tty", &json_t_bool},
    {"ConsoleSize", &console_size},
    {"AttachStdin", &json_t_bool},
    {"AttachStderr", &json_t_bool},
    {"AttachStdout", &json_t_bool},
    {"Detach", &json_t_bool},
    {"DetachKeys", &json_t_string},
    {"Env", &json_t_strv},
    {"WorkingDir", &json_t_string},
    {"Cmd", &json_t_strv},
    {NULL, NULL},
};
const struct json_type rest_exec_create_body = {JSON_K_OBJECT, "types.ExecConfig", NULL, exec_create_members};

static const struct json_member exec_start_members[] = {
    {"Detach", &json_t_bool}, {"Tty", &json_t_bool}, {"ConsoleSize", &console_size}, {NULL, NULL}};
const struct json_type rest_exec_start_body = {JSON_K_OBJECT, "types.ExecStartCheck", NULL, exec_start_members};

static const struct json_member auth_members[] = {
    {"username", &json_t_string},      {"password", &json_t_string},
    {"auth", &json_t_string},          {"email", &json_t_string},
    {"serveraddress", &json_t_string}, {"identitytoken", &json_t_string},
    {"registrytoken", &json_t_string}, {NULL, NULL},
};
const struct json_type rest_auth_body = {JSON_K_OBJECT, "types.AuthConfig", NULL, auth_members};

static const struct json_member load_embedded_members[] = {{"Path", &json_t_string}, {NULL, NULL}};
const struct json_type rest_load_embedded_body = {JSON_K_OBJECT, "struct", NULL, load_embedded_members};

/* types.NetworkCreateRequest with network.IPAM. */
static const struct json_member ipam_config_members[] = {{"Subnet", &json_t_string},
                                                         {"IPRange", &json_t_string},
                                                         {"Gateway", &json_t_string},
                                                         {"AuxiliaryAddresses", &json_t_strmap},
                                                         {NULL, NULL}};
static const struct json_type ipam_config = {JSON_K_OBJECT, "network.IPAMConfig", NULL, ipam_config_members};
static const struct json_type ipam_configs = {JSON_K_ARRAY, "[]network.IPAMConfig", &ipam_config, NULL};
static const struct json_member net_ipam_members[] = {
    {"Driver", &json_t_string}, {"Options", &json_t_strmap}, {"Config", &ipam_configs}, {NULL, NULL}};
static const struct json_type net_ipam = {JSON_K_OBJECT, "network.IPAM", NULL, net_ipam_members};
static const struct json_member config_from_members[] = {{"Network", &json_t_string}, {NULL, NULL}};
static const struct json_type config_from = {JSON_K_OBJECT, "network.ConfigReference", NULL, config_from_members};
static const struct json_member network_create_members[] = {
    {"Name", &json_t_string},     {"CheckDuplicate", &json_t_bool},
    {"Driver", &json_t_string},   {"Scope", &json_t_string},
    {"EnableIPv6", &json_t_bool}, {"IPAM", &net_ipam},
    {"Internal", &json_t_bool},   {"Attachable", &json_t_bool},
    {"Ingress", &json_t_bool},    {"ConfigOnly", &json_t_bool},
    {"ConfigFrom", &config_from}, {"Options", &json_t_strmap},
    {"Labels", &json_t_strmap},   {NULL, NULL},
};
const struct json_type rest_network_create_body = {JSON_K_OBJECT, "types.NetworkCreateRequest", NULL,
                                                   network_create_members};
static const struct json_member volume_create_members[] = {
    {"Name", &json_t_string},   {"Driver", &json_t_string},         {"DriverOpts", &json_t_strmap},
    {"Labels", &json_t_strmap}, {"ClusterVolumeSpec", &json_t_any}, {NULL, NULL}};
const struct json_type rest_volume_create_body = {JSON_K_OBJECT, "volume.CreateOptions", NULL, volume_create_members};

/* types.NetworkConnect and types.NetworkDisconnect. */
static const struct json_member network_connect_members[] = {
    {"Container", &json_t_string}, {"EndpointConfig", &endpoint}, {NULL, NULL}};
const struct json_type rest_network_connect_body = {JSON_K_OBJECT, "types.NetworkConnect", NULL,
                                                    network_connect_members};
static const struct json_member network_disconnect_members[] = {
    {"Container", &json_t_string}, {"Force", &json_t_bool}, {NULL, NULL}};
const struct json_type rest_network_disconnect_body = {JSON_K_OBJECT, "types.NetworkDisconnect", NULL,
                                                       network_disconnect_members};
