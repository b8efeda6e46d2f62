//! `tablero monitor …`, `tablero audit`.

use tablero_app::monitor;

use crate::args::{Cli, MonitorCommand};
use crate::failure::Failure;
use crate::{emit, human, open, parse_since};

pub(crate) fn run(cli: &Cli, cmd: &MonitorCommand) -> Result<u8, Failure> {
    let b = open(cli)?;
    match cmd {
        MonitorCommand::Metrics { since, endpoint } => {
            let m = monitor::metrics(&b, &parse_since(since)?, endpoint.as_deref())?;
            emit(cli, &m, |m| {
                human::metrics(&m.windows, m.requests, m.errors)
            });
        }
        MonitorCommand::Drift {
            since,
            version,
            group,
        } => {
            let d = monitor::drift(&b, &parse_since(since)?, group.as_deref(), *version)?;
            emit(cli, &d, |d| human::drift(&d.features));
        }
        MonitorCommand::Service { since } => {
            let s = monitor::service(&b, &parse_since(since)?)?;
            emit(cli, &s, |s| human::service(&s.series));
        }
        MonitorCommand::Alarms => {
            let a = monitor::alarms(&b)?;
            emit(cli, &a, human::alarms);
        }
    }
    Ok(0)
}

pub(crate) fn audit(cli: &Cli, since: &str) -> Result<u8, Failure> {
    let b = open(cli)?;
    let log = tablero_app::policy::audit(&b, &parse_since(since)?)?;
    emit(cli, &log, |l| human::audit(&l.entries));
    Ok(0)
}
