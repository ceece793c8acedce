//! CSP authorization (DOMAIN §8): the partner's profile, where it stands
//! against the requirements of its type, reassessment and AUTH-1's remediation.

use chrono::{DateTime, Months, NaiveDate, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde_json::json;

use super::Call;
use crate::authz::{self, Permission};
use crate::domain::UserErrorCode;
use crate::domain::authorization::{self, Profile, Requirement};
use crate::domain::ids::ObjectId;
use crate::domain::time::Month;
use crate::domain::{PartnerType, Role, SupportPlan, sla};
use crate::error::{Error, Result, UserError};
use crate::fields;
use crate::store::Tx;
use crate::store::audit;
use crate::store::partners::{self, AssessmentRow, PartnerRow};

pub const UPDATE_PROFILE: Permission = Permission {
    roles: &[Role::PartnerAdmin, Role::ProgramAdmin],
    action: "update partners' authorization profiles",
};
pub const REASSESS: Permission = Permission {
    roles: &[Role::ProgramAdmin],
    action: "reassess partners",
};

/// Changes to a profile; `None` leaves a field as it is. Partner admins may
/// change what they declare themselves (MFA, security contact, support plan,
/// business email); the rest is established by the programme.
#[derive(Debug, Clone, Default)]
pub struct ProfileChanges {
    pub mfa_all_admins: Option<bool>,
    pub security_contact_email: Option<String>,
    pub support_plan: Option<SupportPlan>,
    pub business_email: Option<String>,
    pub revenue_trailing_12m: Option<Decimal>,
    pub regional_revenue: Option<Vec<(String, Decimal)>>,
    pub indirect_reseller_since: Option<NaiveDate>,
    pub prior_experience_assessed: Option<bool>,
    pub designations: Option<Vec<String>>,
    pub capabilities_assessment_passed: Option<bool>,
    pub credit_check_passed: Option<bool>,
}

/// Sets every field to what `profile` holds.
impl From<Profile> for ProfileChanges {
    fn from(p: Profile) -> Self {
        ProfileChanges {
            mfa_all_admins: Some(p.mfa_all_admins),
            security_contact_email: p.security_contact_email,
            support_plan: Some(p.support_plan),
            business_email: p.business_email,
            revenue_trailing_12m: p.revenue_trailing_12m,
            regional_revenue: Some(p.regional_revenue),
            indirect_reseller_since: p.indirect_reseller_since,
            prior_experience_assessed: Some(p.prior_experience_assessed),
            designations: Some(p.designations),
            capabilities_assessment_passed: Some(p.capabilities_assessment_passed),
            credit_check_passed: Some(p.credit_check_passed),
        }
    }
}

impl ProfileChanges {
    /// The programme-only fields this change touches.
    fn programme_fields(&self) -> Vec<&'static str> {
        let mut fields = Vec::new();
        if self.revenue_trailing_12m.is_some() {
            fields.push("revenueTrailing12m");
        }
        if self.regional_revenue.is_some() {
            fields.push("regionalRevenue");
        }
        if self.indirect_reseller_since.is_some() {
            fields.push("indirectResellerSince");
        }
        if self.prior_experience_assessed.is_some() {
            fields.push("priorExperienceAssessed");
        }
        if self.designations.is_some() {
            fields.push("solutionsPartnerDesignations");
        }
        if self.capabilities_assessment_passed.is_some() {
            fields.push("capabilitiesAssessmentPassed");
        }
        if self.credit_check_passed.is_some() {
            fields.push("creditCheckPassed");
        }
        fields
    }
}

/// Where a partner stands (§8).
#[derive(Debug, Clone)]
pub struct Standing {
    pub partner: PartnerRow,
    pub profile: Profile,
    pub requirements: Vec<Requirement>,
    pub authorized_since: Option<NaiveDate>,
    pub reapply_blocked_until: Option<NaiveDate>,
    pub last_assessment: Option<AssessmentRow>,
    /// The day of the last assessment, in the programme time zone.
    pub last_assessed_on: Option<NaiveDate>,
    /// When the open remediation window (AUTH-1), if one is open, has
    /// passed: 00:00 of the day after its 30th day, programme time zone.
    pub remediation_deadline: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
    pub timezone: Tz,
}

impl Standing {
    /// When the remediation window an assessment opened has passed.
    pub fn deadline_of(&self, assessment: &AssessmentRow) -> Option<DateTime<Utc>> {
        assessment
            .remediation_deadline
            .map(|last_day| sla::passed_after(last_day, self.timezone))
    }

    pub fn meets_requirements(&self) -> bool {
        self.requirements.iter().all(|r| r.passed)
    }

    /// Authorized: it meets every requirement, or it is within its 30 days to remediate.
    pub fn authorized(&self) -> bool {
        self.meets_requirements()
            || self
                .remediation_deadline
                .is_some_and(|d| !sla::has_passed(d, self.now))
    }

    /// AUTH-2: due the year after the last assessment, in the anniversary month.
    pub fn next_reassessment(&self) -> Option<Month> {
        self.authorized_since
            .map(|since| authorization::next_reassessment(since, self.last_assessed_on))
    }
}

/// Where `partner` stands on the call's day.
pub fn standing(tx: &Tx<'_>, partner: PartnerRow, call: &Call) -> Result<Standing> {
    let today = call.today();
    let profile = partners::profile(tx, &partner.id)?;
    let (authorized_since, reapply_blocked_until) = partners::authorization_dates(tx, &partner.id)?;
    let requirements = authorization::evaluate(partner.partner_type, &profile, today);
    let last_assessment = partners::latest_assessment(tx, &partner.id)?;
    let remediation_deadline = partners::open_remediation(tx, &partner.id)?
        .map(|last_day| sla::passed_after(last_day, call.timezone));
    Ok(Standing {
        partner,
        profile,
        requirements,
        authorized_since,
        reapply_blocked_until,
        last_assessed_on: last_assessment.as_ref().map(|a| call.day_of(a.assessed_at)),
        last_assessment,
        remediation_deadline,
        now: call.now,
        timezone: call.timezone,
    })
}

/// The partner itself and programme roles see its standing; anyone else does not.
pub fn may_see(call_actor: &crate::domain::actor::Actor, partner: &ObjectId) -> bool {
    call_actor.is_program() || call_actor.partner_id() == Some(partner)
}

/// Updates what the requirements are judged on.
pub fn update_profile(
    tx: &Tx<'_>,
    call: &Call,
    partner_id: &ObjectId,
    changes: ProfileChanges,
) -> Result<Standing> {
    authz::require(&call.actor, &UPDATE_PROFILE)?;
    let partner = authz::partner(tx, &call.actor, partner_id)?;
    if !may_see(&call.actor, &partner.id) {
        return Err(Error::NotFound);
    }
    let programme_fields = changes.programme_fields();
    if !call.actor.is_program() && !programme_fields.is_empty() {
        return Err(Error::forbidden(
            "PROGRAM_ADMIN_ONLY",
            format!("only the programme sets {}", programme_fields.join(", ")),
        ));
    }
    if let Some(problem) = changes
        .business_email
        .as_deref()
        .and_then(authorization::business_email_problem)
    {
        return Err(Error::rejected(
            UserError::new(
                UserErrorCode::GenericOrPersonalEmail,
                format!("the business email must be a monitored work address, not {problem}"),
            )
            .at(fields::BUSINESS_EMAIL),
        ));
    }
    let mut p = partners::profile(tx, &partner.id)?;
    let mut changed = Vec::new();
    macro_rules! apply {
        ($field:ident, $name:literal, $value:expr) => {
            if let Some(v) = changes.$field {
                p.$field = $value(v);
                changed.push($name);
            }
        };
    }
    apply!(mfa_all_admins, "mfaForAllAdmins", |v| v);
    apply!(security_contact_email, "securityContactEmail", Some);
    apply!(support_plan, "supportPlan", |v| v);
    apply!(business_email, "businessEmail", Some);
    apply!(revenue_trailing_12m, "revenueTrailing12m", Some);
    apply!(regional_revenue, "regionalRevenue", |v| v);
    apply!(indirect_reseller_since, "indirectResellerSince", Some);
    apply!(prior_experience_assessed, "priorExperienceAssessed", |v| v);
    apply!(designations, "solutionsPartnerDesignations", |v| v);
    apply!(
        capabilities_assessment_passed,
        "capabilitiesAssessmentPassed",
        |v| v
    );
    apply!(credit_check_passed, "creditCheckPassed", |v| v);
    if !changed.is_empty() {
        partners::save_profile(tx, &partner.id, &p, call.now)?;
        audit::record(
            tx,
            &call.actor,
            &partner.id,
            "PARTNER_PROFILE_UPDATED",
            json!({ "fields": changed }),
            call.now,
        )?;
    }
    let partner = authz::partner(tx, &call.actor, partner_id)?;
    standing(tx, partner, call)
}

/// AUTH-1: the programme reassesses a partner. A failing partner gets 30
/// days to remediate (one window at a time); a passing one is (still) authorized.
pub fn reassess(tx: &Tx<'_>, call: &Call, partner_id: &ObjectId) -> Result<Standing> {
    authz::require(&call.actor, &REASSESS)?;
    let partner = authz::partner(tx, &call.actor, partner_id)?;
    let today = call.today();
    let current = standing(tx, partner.clone(), call)?;
    let failed: Vec<String> = current
        .requirements
        .iter()
        .filter(|r| !r.passed)
        .map(|r| r.code.as_str().to_owned())
        .collect();
    let window_open = current.remediation_deadline.is_some();
    let deadline =
        (!failed.is_empty() && !window_open).then(|| authorization::remediation_deadline(today));
    partners::insert_assessment(
        tx,
        &AssessmentRow {
            id: 0,
            partner_id: partner.id.clone(),
            assessed_at: call.now,
            passed: failed.is_empty(),
            failed_requirements: failed.clone(),
            remediation_deadline: deadline,
            outcome: None,
        },
        &call.actor.subject,
    )?;
    if failed.is_empty() {
        partners::set_authorized_since(tx, &partner.id, today)?;
        partners::resolve_assessments(tx, &partner.id, "REMEDIATED", call.now)?;
    }
    audit::record(
        tx,
        &call.actor,
        &partner.id,
        "PARTNER_REASSESSED",
        json!({ "passed": failed.is_empty(), "failed": failed, "remediationDeadline": deadline.map(|d| d.to_string()) }),
        call.now,
    )?;
    standing(tx, partner, call)
}

/// What the remediation sweep did to one partner.
#[derive(Debug, Clone)]
pub struct Remediation {
    pub partner: PartnerRow,
    /// REMEDIATED, DEMOTED or NOT_REMEDIATED.
    pub outcome: &'static str,
}

/// AUTH-1, the sweep: closes every remediation window that has ended. A
/// partner that now meets its requirements is remediated; a direct bill
/// partner that still fails becomes an indirect reseller and may not reapply
/// for a year; any other partner that still fails is no longer authorized.
/// Open ACO requests keep their transacting partner.
pub fn expire_remediation(tx: &Tx<'_>, call: &Call, by_admin: bool) -> Result<Vec<Remediation>> {
    if by_admin {
        authz::require(&call.actor, &REASSESS)?;
    }
    let today = call.today();
    let mut seen: Vec<ObjectId> = Vec::new();
    let mut out = Vec::new();
    for window in partners::remediation_overdue(tx, today)? {
        if seen.contains(&window.partner_id) {
            continue;
        }
        seen.push(window.partner_id.clone());
        let Some(partner) = partners::get(tx, &window.partner_id)? else {
            continue;
        };
        let current = standing(tx, partner.clone(), call)?;
        let outcome = if current.meets_requirements() {
            "REMEDIATED"
        } else if partner.partner_type == PartnerType::DirectBill {
            let blocked_until = today
                .checked_add_months(Months::new(authorization::REAPPLY_BLOCK_MONTHS))
                .unwrap_or(today);
            partners::demote(tx, &partner.id, blocked_until, today, call.now)?;
            audit::record(
                tx,
                &call.actor,
                &partner.id,
                "PARTNER_DEMOTED",
                json!({ "from": "DIRECT_BILL", "to": "INDIRECT_RESELLER", "reapplyBlockedUntil": blocked_until.to_string(),
                    "failed": current.requirements.iter().filter(|r| !r.passed).map(|r| r.code.as_str()).collect::<Vec<_>>() }),
                call.now,
            )?;
            "DEMOTED"
        } else {
            "NOT_REMEDIATED"
        };
        partners::resolve_assessments(tx, &partner.id, outcome, call.now)?;
        audit::record(
            tx,
            &call.actor,
            &partner.id,
            "REMEDIATION_CLOSED",
            json!({ "outcome": outcome }),
            call.now,
        )?;
        out.push(Remediation {
            partner: partners::get(tx, &partner.id)?.unwrap_or(partner),
            outcome,
        });
    }
    Ok(out)
}

/// AUTH-1: a demoted partner may not become direct bill again while blocked.
pub fn ensure_may_become(
    tx: &Tx<'_>,
    partner: &PartnerRow,
    to: PartnerType,
    today: NaiveDate,
) -> Result<()> {
    if to != PartnerType::DirectBill || partner.partner_type == PartnerType::DirectBill {
        return Ok(());
    }
    let (_, blocked_until) = partners::authorization_dates(tx, &partner.id)?;
    match blocked_until {
        // AUTH-1: refused before the first anniversary of the demotion day,
        // accepted on it.
        Some(from) if today < from => Err(Error::rejected(
            UserError::new(
                UserErrorCode::ReapplyBlocked,
                format!("a demoted partner may reapply for direct bill from {from}"),
            )
            .at(fields::PARTNER_TYPE),
        )),
        _ => Ok(()),
    }
}
