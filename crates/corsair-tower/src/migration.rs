//! Migration guide (stub).
