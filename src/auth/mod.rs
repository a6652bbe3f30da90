//! Who may do what in a room: participant tokens (HS256 JWTs, claims as the MeshAgent SDK
//! writes them), their `ApiScope` grants, and the check that guards each toolkit call.

pub mod check;
pub mod scope;
pub mod secret;
pub mod token;

pub use check::{Denied, Guard};
pub use scope::ApiScope;
pub use token::{ApiKey, AuthError, ParticipantToken, signing_key_from_env};
