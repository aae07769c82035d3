//! The napi layer: each file turns one concept's JavaScript values into the
//! core's types and back, and decides nothing. Every async call resolves to
//! one shape (`reply::Reply`): its value, or a `failure` carrying a stable
//! code and the class the core gave it. Sync calls that refuse their input
//! throw (a `TypeError` for an unusable option).

mod auth;
mod check_channel;
mod cookies;
mod json;
mod process;
mod reply;
mod verify;

use napi::{Env, Error, Status};

/// Throws a `TypeError` with `message` and answers the error napi-rs then
/// leaves alone (the exception is already pending).
fn type_error(env: &Env, message: &str) -> Error {
    let _ = env.throw_type_error(message, None);
    Error::new(Status::PendingException, message)
}
