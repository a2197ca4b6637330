//! Starting a client or a pool: a validated configuration becomes the session, TCP, TLS
//! and pool settings of its connections, and the `Open` that registers them on the I/O thread.

use super::*;

/// How a `Pool` differs from a client: no shared connection, and its own bounds and policy.
pub(crate) struct PoolShape {
    pub(crate) spares: SparesConfig,
    pub(crate) policy: PoolPolicy,
}

impl ClientCore {
    /// Starts a client (`pool: None`) or a pool's set of connections from a validated
    /// configuration.
    pub(crate) fn start(config: Config, pool: Option<PoolShape>) -> Result<Arc<ClientCore>, Error> {
        // Built once per client: every reconnect shares it, and its session cache.
        let tls = match &config.tls {
            Some(tls) => Some(TlsConnector::new(tls, &config.addr)?),
            None => None,
        };
        let reactor = Reactor::global()?;
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let limits = Limits {
            max_bulk_len: config.max_bulk_len,
            max_depth: config.max_depth,
            ..Limits::default()
        };
        let handshake = Handshake::new(&HandshakeConfig {
            protocol: config.protocol.version(),
            username: config.username.clone(),
            password: config.password.as_ref().map(|p| p.expose().to_vec()),
            db: i64::from(config.db),
            client_name: config.client_name.clone(),
        });
        let handshake = if tls.is_some() { handshake.confirmed() } else { handshake };
        let seed = id.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
        let session = SessionConfig {
            handshake,
            connect_timeout: millis(config.connect_timeout),
            read_timeout: Some(millis(config.read_timeout)),
            write_timeout: Some(millis(config.write_timeout)),
            reconnect: config.reconnect,
            backoff: Backoff::new(
                millis(config.reconnect_delay),
                millis(config.reconnect_delay_max),
                config.reconnect_jitter,
                seed,
            ),
            queue_size: config.queue_size,
            limits,
            max_attempts: if config.retry_policy.is_some() { 1 } else { MAX_ATTEMPTS },
            mode: Mode::Shared,
        };
        let tcp = TcpOptions {
            nodelay: config.tcp_nodelay,
            keepalive: config.tcp_keepalive,
            recv_buffer: config.recv_buffer_size,
            send_buffer: config.send_buffer_size,
        };
        let command_timeouts = config
            .command_timeouts
            .iter()
            .map(|(name, t)| (name.to_ascii_uppercase().into_bytes(), *t))
            .collect();
        let hooks = Hooks {
            info: config.connect_info(None),
            on_connect: config.on_connect,
            on_disconnect: config.on_disconnect,
            on_error: config.on_error,
        };
        let hooks = hooks.any().then(|| Arc::new(hooks));
        let shared = pool.is_none();
        let PoolShape { spares, policy } = pool.unwrap_or(PoolShape {
            spares: SparesConfig {
                min: 0,
                max: config.max_dedicated,
                idle_ms: millis(config.dedicated_idle_timeout),
            },
            policy: PoolPolicy {
                health_ms: None,
                check_ms: 0,
                cleanup_ms: None,
                bound: "max_dedicated",
            },
        });
        let pubsub_on_shared = config.protocol == crate::Protocol::Resp3;
        let spec = OpenSpec {
            target: config.addr.clone(),
            tcp,
            tls,
            session,
            hooks,
            spares,
            pubsub_on_shared,
            shared,
            policy,
            counters: Arc::new(PoolCounters::default()),
        };
        let core = ClientCore {
            reactor: Some(reactor),
            id,
            generation: fork::generation(),
            child: Mutex::new(None),
            spec,
            server: config.addr.to_string(),
            limits,
            request_timeout_ms: Some(millis(config.request_timeout)),
            blocking_buffer: config.blocking_timeout_buffer,
            command_timeouts,
            // A user's policy decides every resend itself, on the caller's side.
            retry_written: config.retry_maybe_executed && config.retry_policy.is_none(),
            idempotent_commands: config.idempotent_commands.clone(),
            retry_policy: config.retry_policy.clone(),
            prefix: config.prefix.clone(),
            on_timeout: config.on_timeout,
        };
        if let Some(reactor) = &core.reactor {
            reactor.submit(core.spec.open(id));
        }
        Ok(Arc::new(core))
    }
}
