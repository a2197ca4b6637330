//! The pools' cycles: each builds its pool, then one operation is acquire + GET + release.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::{err, PoolKind, ACQUIRE_TIMEOUT, KEY, POOL_SIZE};

/// A thread caller's cycle.
pub type ThreadOp = Box<dyn Fn() -> Result<(), String> + Send + Sync>;

/// A task caller's cycle.
#[derive(Clone)]
pub enum TaskOp {
    Redpoll(redpoll::Pool),
    Deadpool(deadpool_redis::Pool),
    Bb8(bb8::Pool<bb8_redis::RedisConnectionManager>),
}

impl TaskOp {
    pub fn run(&self) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + '_>> {
        Box::pin(async move {
            match self {
                TaskOp::Redpoll(pool) => {
                    let conn = pool.acquire().await.map_err(err("redpoll acquire"))?;
                    let _: Option<bytes::Bytes> =
                        conn.get(KEY).await.map_err(err("redpoll GET"))?;
                }
                TaskOp::Deadpool(pool) => {
                    let mut conn = pool.get().await.map_err(err("deadpool get"))?;
                    let _: Option<Vec<u8>> = redis::cmd("GET")
                        .arg(KEY)
                        .query_async(&mut conn)
                        .await
                        .map_err(err("deadpool GET"))?;
                }
                TaskOp::Bb8(pool) => {
                    let mut conn = pool.get().await.map_err(err("bb8 get"))?;
                    let _: Option<Vec<u8>> = redis::cmd("GET")
                        .arg(KEY)
                        .query_async(&mut *conn)
                        .await
                        .map_err(err("bb8 GET"))?;
                }
            }
            Ok(())
        })
    }
}

fn redpoll_pool(url: &str) -> Result<redpoll::Pool, String> {
    redpoll::Pool::builder()
        .url(url)
        .min(POOL_SIZE)
        .max(POOL_SIZE)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .health_check_after(None)
        .build()
        .map_err(err("redpoll pool"))
}

pub fn thread_op(kind: PoolKind, url: &str) -> Result<ThreadOp, String> {
    match kind {
        PoolKind::RedpollWait => {
            let pool = redpoll_pool(url)?;
            Ok(Box::new(move || {
                let conn = pool.acquire().wait().map_err(err("redpoll acquire"))?;
                let _: Option<bytes::Bytes> = conn.get(KEY).wait().map_err(err("redpoll GET"))?;
                Ok(())
            }))
        }
        PoolKind::R2d2 => {
            let client = crate::pubsub::redis_client(url)?;
            let pool = r2d2::Pool::builder()
                .max_size(POOL_SIZE as u32)
                .min_idle(Some(POOL_SIZE as u32))
                .test_on_check_out(false)
                .connection_timeout(ACQUIRE_TIMEOUT)
                .build(client)
                .map_err(err("r2d2 pool"))?;
            let pool = Arc::new(pool);
            Ok(Box::new(move || {
                let mut conn = pool.get().map_err(err("r2d2 get"))?;
                let _: Option<Vec<u8>> =
                    redis::cmd("GET").arg(KEY).query(&mut *conn).map_err(err("r2d2 GET"))?;
                Ok(())
            }))
        }
        _ => Err(format!("{} runs on tasks", kind.id())),
    }
}

pub async fn task_op(kind: PoolKind, url: &str) -> Result<TaskOp, String> {
    match kind {
        PoolKind::RedpollAwait => Ok(TaskOp::Redpoll(redpoll_pool(url)?)),
        PoolKind::Deadpool => {
            let mut cfg = deadpool_redis::Config::from_url(url);
            cfg.pool = Some(deadpool_redis::PoolConfig {
                max_size: POOL_SIZE,
                timeouts: deadpool_redis::Timeouts {
                    wait: Some(ACQUIRE_TIMEOUT),
                    create: Some(ACQUIRE_TIMEOUT),
                    recycle: Some(ACQUIRE_TIMEOUT),
                },
                ..Default::default()
            });
            let pool = cfg
                .create_pool(Some(deadpool_redis::Runtime::Tokio1))
                .map_err(err("deadpool pool"))?;
            Ok(TaskOp::Deadpool(pool))
        }
        PoolKind::Bb8 => {
            let manager =
                bb8_redis::RedisConnectionManager::new(url).map_err(err("bb8 manager"))?;
            let pool = bb8::Pool::builder()
                .max_size(POOL_SIZE as u32)
                .min_idle(Some(POOL_SIZE as u32))
                .test_on_check_out(false)
                .connection_timeout(ACQUIRE_TIMEOUT)
                .build(manager)
                .await
                .map_err(err("bb8 pool"))?;
            Ok(TaskOp::Bb8(pool))
        }
        _ => Err(format!("{} runs on threads", kind.id())),
    }
}
