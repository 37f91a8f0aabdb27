//! `Rewind`: the engine, the IndexedDB backend, cross-tab locking and the clock, put together
//! for one app database. This is what the recovery page and the JavaScript API call.

use super::backend::IdbBackend;
use super::lock::lock_database;
use crate::diff::SchemaDiff;
use crate::engine::{Migrator, OperationReport, Status};
use crate::error::MigrationError;
use crate::plan::MigrationPlan;
use std::rc::Rc;

pub struct Rewind {
    name: String,
    migrator: Migrator,
    /// How long an upgrade may wait for other tabs before it fails with `Blocked`.
    pub block_timeout_ms: u32,
    pub on_blocked: Option<Rc<dyn Fn()>>,
}

impl Rewind {
    pub fn new(name: impl Into<String>, migrator: Migrator) -> Self {
        Rewind {
            name: name.into(),
            migrator,
            block_timeout_ms: 5_000,
            on_blocked: None,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn migrator(&self) -> &Migrator {
        &self.migrator
    }

    fn backend(&self) -> IdbBackend {
        IdbBackend {
            name: self.name.clone(),
            block_timeout_ms: self.block_timeout_ms,
            on_blocked: self.on_blocked.clone(),
        }
    }

    pub async fn status(&self) -> Result<Status, MigrationError> {
        self.migrator.status(&mut self.backend()).await
    }

    pub async fn plan(&self, to: u32) -> Result<MigrationPlan, MigrationError> {
        self.migrator.plan(&mut self.backend(), to).await
    }

    pub async fn validate(&self) -> Result<SchemaDiff, MigrationError> {
        self.migrator.validate(&mut self.backend()).await
    }

    /// Migrates to `to` (the latest when `None`), holding the database's cross-tab lock.
    pub async fn migrate_to(&self, to: Option<u32>) -> Result<OperationReport, MigrationError> {
        let _lock = lock_database(&self.name).await?;
        self.migrator
            .migrate_to(&mut self.backend(), to, js_sys::Date::now(), None)
            .await
    }

    /// Rolls back to `to`, holding the database's cross-tab lock.
    pub async fn rollback_to(&self, to: u32) -> Result<OperationReport, MigrationError> {
        let _lock = lock_database(&self.name).await?;
        self.migrator
            .rollback_to(&mut self.backend(), to, js_sys::Date::now(), None)
            .await
    }

    /// Re-records the checksums of modified migrations (after the person confirmed).
    pub async fn repair(&self) -> Result<Vec<u32>, MigrationError> {
        let _lock = lock_database(&self.name).await?;
        self.migrator
            .repair(&mut self.backend(), js_sys::Date::now())
            .await
    }
}
