//! Error codes carried by `error` Contents (the SDK's `error_codes.py`).

pub const PERMISSION_DENIED: i64 = 1001;
pub const INVALID_REQUEST: i64 = 1002;
pub const NOT_FOUND: i64 = 1003;
pub const ALREADY_EXISTS: i64 = 1004;
pub const CONFLICT: i64 = 1005;
pub const INVALID_STATE: i64 = 1006;
pub const DEPENDENCY_MISSING: i64 = 1007;
pub const OPERATION_FAILED: i64 = 1008;
pub const TIMEOUT: i64 = 1009;
pub const UNEXPECTED_RESPONSE_TYPE: i64 = 1100;
pub const MEMORY_NOT_FOUND: i64 = 2001;
pub const MEMORY_ALREADY_EXISTS: i64 = 2002;
pub const STORAGE_NOT_FOUND: i64 = 3001;
pub const STORAGE_RECURSIVE_REQUIRED: i64 = 3002;
pub const STORAGE_INVALID_HANDLE: i64 = 3003;
pub const STORAGE_INVALID_PATH: i64 = 3004;
pub const STORAGE_ALREADY_EXISTS: i64 = 3005;
pub const SYNC_NOT_CONNECTED: i64 = 4001;
pub const SYNC_ALREADY_CONNECTED: i64 = 4002;
pub const QUEUE_NOT_FOUND: i64 = 5001;
pub const QUEUE_ALREADY_EXISTS: i64 = 5002;
pub const CONTAINER_NOT_FOUND: i64 = 6001;
pub const SERVICE_NOT_FOUND: i64 = 7001;
pub const SERVICE_RESTART_NOT_ALLOWED: i64 = 7002;
pub const SERVICE_ALREADY_EXISTS: i64 = 7003;
