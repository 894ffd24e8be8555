//! The organization's own directory (LDAP, Active Directory) as the source of accounts and
//! passwords (issue #19; docs/design/directory.md). The shapes the flows talk in (`Directory`,
//! `DirectoryPerson`, `DirectoryError`) live in core, a port like the store; this module is the
//! LDAP adapter, the way `delivery` keeps gateways behind one trait.

pub mod config;
pub mod entry;
pub mod ldap;
mod people;
pub mod pool;
pub mod ppolicy;
pub mod refusal;
pub mod writeback;

pub use config::{AttributeMap, DirectoryConfig, DirectoryKind, Security};
pub use ldap::LdapDirectory;
pub use refusal::Refusal;

pub use tessera_core::directory::{Directory, DirectoryError, DirectoryPerson};
