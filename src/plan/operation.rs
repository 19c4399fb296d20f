//! What a plan is of: one name per operation, the same in the core, the bindings, the
//! facade, the command line and the files (plans and journals carry it as text).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::portal::licenses::MAX_PROVISION_BATCH;
use crate::portal::users::MAX_USER_TYPE_BATCH;

/// The operation a plan makes. Written in plan and journal files as its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// Members' user types (and the roles they need).
    UpdateLicenseType,
    UpdateRole,
    /// Members' levels, 1 or 2 (portals before user types).
    UpdateLevel,
    /// Entitlements under one license: set, add or remove.
    Provision,
    /// Licenses checked out for offline use.
    Release,
    /// A release, then a user type and/or entitlements.
    ReleaseAndUpdate,
    /// OpenLM sessions' applications.
    CloseApplications,
    /// What a journal shows done, taken back.
    Undo,
}

const ALL: [Operation; 8] = [
    Operation::UpdateLicenseType,
    Operation::UpdateRole,
    Operation::UpdateLevel,
    Operation::Provision,
    Operation::Release,
    Operation::ReleaseAndUpdate,
    Operation::CloseApplications,
    Operation::Undo,
];

impl Operation {
    /// Its name: "update_license_type"...
    pub fn name(self) -> &'static str {
        match self {
            Operation::UpdateLicenseType => "update_license_type",
            Operation::UpdateRole => "update_role",
            Operation::UpdateLevel => "update_level",
            Operation::Provision => "provision",
            Operation::Release => "release",
            Operation::ReleaseAndUpdate => "release_and_update",
            Operation::CloseApplications => "close_applications",
            Operation::Undo => "undo",
        }
    }

    /// The operation a name names; an unknown one is refused with the known ones listed.
    pub fn parse(name: &str) -> Result<Operation> {
        ALL.into_iter().find(|op| op.name() == name).ok_or_else(|| {
            let names: Vec<&str> = ALL.iter().map(|op| op.name()).collect();
            Error::invalid(format!(
                "no operation {name:?}: the operations are {}",
                names.join(", ")
            ))
        })
    }

    /// The most members one of its batched requests names: 25 for entitlements
    /// (provisionUserEntitlements), 100 for user types (updateUserLicenseType).
    pub fn most_per_request(self) -> usize {
        match self {
            Operation::Provision => MAX_PROVISION_BATCH,
            _ => MAX_USER_TYPE_BATCH,
        }
    }
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The members per request asked for `operation`, as given (`given`: how the caller wrote
/// it, for the message; `batch_size`: None when it is no whole number), checked before
/// anything is read: from 1 to what one request of the operation may carry.
pub fn check_batch_size(
    operation: Operation,
    given: &str,
    batch_size: Option<usize>,
) -> Result<usize> {
    let most = operation.most_per_request();
    match batch_size {
        Some(n) if (1..=most).contains(&n) => Ok(n),
        _ => Err(Error::invalid(format!(
            "batch_size must be a whole number from 1 to {most}, not {given}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_read_by_their_names_only() {
        for op in ALL {
            assert_eq!(Operation::parse(op.name()).unwrap(), op);
            let json = serde_json::to_value(op).unwrap();
            assert_eq!(json, op.name());
        }
        let err = Operation::parse("update_user_type").unwrap_err();
        assert!(err.to_string().contains("update_license_type"), "{err}");
    }

    #[test]
    fn batch_sizes_are_checked_against_the_operations_requests() {
        let op = Operation::Provision;
        assert_eq!(check_batch_size(op, "25", Some(25)).unwrap(), 25);
        let err = check_batch_size(op, "26", Some(26)).unwrap_err();
        assert!(err.to_string().contains("from 1 to 25, not 26"), "{err}");
        assert!(check_batch_size(Operation::UpdateLicenseType, "100", Some(100)).is_ok());
        assert!(check_batch_size(Operation::UpdateLicenseType, "True", None).is_err());
    }
}
