//! `tablero models …`, `tablero policy …`, `tablero report`.

use tablero_app::models;
use tablero_core::registry::ApprovalStatus;

use crate::args::{Cli, ModelsCommand, PolicyCommand};
use crate::failure::Failure;
use crate::{emit, human, open, parse_since};

pub(crate) fn run(cli: &Cli, cmd: &ModelsCommand) -> Result<u8, Failure> {
    let b = open(cli)?;
    match cmd {
        ModelsCommand::Ls { group, status } => {
            let status = match status {
                Some(s) => Some(ApprovalStatus::from_name(s).ok_or_else(|| {
                    Failure::usage(format!("--status {s:?}: use pending, approved or rejected"))
                })?),
                None => None,
            };
            let list = models::list(&b, group, status)?;
            emit(cli, &list, |l| human::versions(&l.versions));
        }
        ModelsCommand::Show { version, group } => {
            let detail = models::show(&b, group, *version)?;
            emit(cli, &detail, |d| human::card(&d.version, &d.card));
        }
        ModelsCommand::Compare { versions, group } => {
            let c = models::compare(&b, group, versions)?;
            emit(cli, &c, human::comparison);
        }
        ModelsCommand::Approve {
            version,
            comment,
            accept_leakage_risk,
            group,
        } => {
            let v = models::approve(&b, group, *version, comment, *accept_leakage_risk)?;
            emit(cli, &v, |v| human::decided(v, comment));
        }
        ModelsCommand::Reject {
            version,
            comment,
            group,
        } => {
            let v = models::reject(&b, group, *version, comment)?;
            emit(cli, &v, |v| human::decided(v, comment));
        }
    }
    Ok(0)
}

pub(crate) fn policy(cli: &Cli, cmd: &PolicyCommand) -> Result<u8, Failure> {
    let b = open(cli)?;
    match cmd {
        PolicyCommand::FourEyes { state } => {
            let set = tablero_app::policy::set_four_eyes(&b, state == "on")?;
            emit(cli, &set, |_| println!("four-eyes rule is {state}"));
        }
    }
    Ok(0)
}

pub(crate) fn report(
    cli: &Cli,
    target: &str,
    out: &std::path::Path,
    group: &str,
    since: &str,
) -> Result<u8, Failure> {
    let b = open(cli)?;
    let written = tablero_app::charts::report(&b, target, group, &parse_since(since)?, out)?;
    emit(cli, &written, human::charts_written);
    Ok(0)
}
