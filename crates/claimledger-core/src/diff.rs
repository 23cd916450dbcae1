//! Field-by-field differences between two revisions of a claim.

use crate::Claim;
use serde_json::Value as Json;

/// One top-level field of a claim that differs between two revisions. A side is `None` where
/// the field is absent; values are in their stored JSON form.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldChange {
    pub field: String,
    pub before: Option<Json>,
    pub after: Option<Json>,
}

/// The fields that differ from `before` to `after`, in stored field order.
pub fn diff_claims(before: &Claim, after: &Claim) -> Vec<FieldChange> {
    let (Json::Object(before), Json::Object(after)) = (
        serde_json::to_value(before).unwrap_or_default(),
        serde_json::to_value(after).unwrap_or_default(),
    ) else {
        unreachable!("a claim serialises to a JSON object")
    };
    Claim::FIELDS
        .iter()
        .filter(|field| before.get(**field) != after.get(**field))
        .map(|field| FieldChange {
            field: (*field).to_owned(),
            before: before.get(*field).cloned(),
            after: after.get(*field).cloned(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Decimal, Status, Subject, Value};

    #[test]
    fn changed_fields_only() {
        let before = Claim {
            subject: Subject::parse("russia/military-deaths").unwrap(),
            claimant: "Mediazona".into(),
            statement: "95,300".into(),
            value: Some(Value {
                bound: Default::default(),
                amount: Some(Decimal::parse("95300").unwrap()),
                low: None,
                high: None,
                unit: None,
            }),
            period: None,
            stated_on: None,
            method: Some("obituaries".into()),
            sources: vec![],
            status: Status::Active,
            tags: vec![],
        };
        let mut after = before.clone();
        after.statement = "121,507".into();
        after.method = None;
        after.status = Status::Superseded;
        let changes = diff_claims(&before, &after);
        let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["statement", "method", "status"]);
        assert_eq!(changes[1].after, None);
        assert_eq!(changes[2].after, Some(Json::String("superseded".into())));
    }
}
