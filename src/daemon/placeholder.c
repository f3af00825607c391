void isd_daemon_placeholder(void);void isd_daemon_placeholder(void){}
