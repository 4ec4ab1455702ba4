use crate::error::AppError;
use crate::graphql::types::recoveries::{AmazonClaim, ClaimStatus};
use crate::graphql::{editor, parse_id, state};
use crate::store;
use async_graphql::{Context, ID, Object};
use entity::amazon_claim::ClaimStatus as S;

/// Longest note and case id a claim keeps.
pub const MAX_NOTE_CHARS: usize = 2_000;
pub const MAX_CASE_ID_CHARS: usize = 64;

#[derive(Default)]
pub struct RecoveriesMutation;

/// Trimmed; empty means "clear". Refused when too long or (case ids) not printable ASCII.
fn clean(
    value: Option<String>,
    max: usize,
    what: &str,
    ascii: bool,
) -> Result<Option<Option<String>>, AppError> {
    let Some(v) = value else {
        return Ok(None);
    };
    let v = v.trim().to_owned();
    if v.chars().count() > max {
        return Err(AppError::bad_input(format!(
            "{what} is longer than {max} characters"
        )));
    }
    if ascii && !v.chars().all(|c| c.is_ascii_graphic()) {
        return Err(AppError::bad_input(format!(
            "{what} may only hold letters, digits and punctuation"
        )));
    }
    Ok(Some((!v.is_empty()).then_some(v)))
}

#[Object]
impl RecoveriesMutation {
    /// The seller's case work on a claim: mark it `FILED` (with Amazon's `caseId`),
    /// `DISMISSED`, or back to `DETECTED`; set or clear (empty string) the case id and a
    /// note. `REIMBURSED` and `EXPIRED` are set by syncs only. Recorded in the audit log.
    async fn update_claim(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The claim's id.")] id: ID,
        #[graphql(desc = "`FILED`, `DISMISSED` or `DETECTED` (reopen).")] status: Option<
            ClaimStatus,
        >,
        #[graphql(
            desc = "Amazon's case id (at most 64 printable ASCII characters; empty clears it)."
        )]
        case_id: Option<String>,
        #[graphql(desc = "A note (at most 2,000 characters; empty clears it).")] note: Option<
            String,
        >,
    ) -> async_graphql::Result<AmazonClaim> {
        let c = editor(ctx)?;
        let st = state(ctx);
        let id = parse_id(&id, "claim")?;
        let case_id = clean(case_id, MAX_CASE_ID_CHARS, "caseId", true)?;
        let note = clean(note, MAX_NOTE_CHARS, "note", false)?;
        let status: Option<S> = status.map(Into::into);
        if let Some(s @ (S::Reimbursed | S::Expired)) = status {
            return Err(AppError::bad_input(format!(
                "{} is set by syncs, not by hand",
                s.as_str().to_uppercase()
            ))
            .into());
        }
        let txn = store::db::begin_write(&st.db).await?;
        let mut claim = store::recoveries::get_claim(&txn, c.account_id, id).await?;
        let before = (claim.status, claim.case_id.clone(), claim.note.clone());
        let now = chrono::Utc::now();
        if let Some(s) = status
            && s != claim.status
        {
            if claim.status == S::Reimbursed {
                return Err(AppError::bad_input("a reimbursed claim is closed").into());
            }
            claim.status = s;
            claim.status_changed_at = now;
            claim.status_changed_by = Some(c.user_id);
        }
        if let Some(v) = case_id {
            claim.case_id = v;
        }
        if let Some(v) = note {
            claim.note = v;
        }
        claim.updated_at = now;
        let saved = store::recoveries::save_claim(&txn, claim).await?;
        store::audit::record(
            &txn,
            c,
            "claim.update",
            Some(("amazon_claim", id.to_string())),
            serde_json::json!({
                "from": { "status": before.0.as_str(), "caseId": before.1, "hasNote": before.2.is_some() },
                "to": { "status": saved.status.as_str(), "caseId": saved.case_id, "hasNote": saved.note.is_some() },
            }),
        )
        .await?;
        txn.commit().await?;
        Ok(saved.into())
    }
}
