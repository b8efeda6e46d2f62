//! `tablero endpoint …`, `tablero deploy …`, `tablero keys …`.

use tablero_app::deploy::{self, History, RolloutReply};
use tablero_app::keys;
use tablero_core::ports::EndpointOptions;

use crate::args::{Cli, DeployCommand, EndpointCommand, KeysCommand};
use crate::failure::Failure;
use crate::{emit, human, open, parse_since};

pub(crate) fn endpoint(cli: &Cli, cmd: &EndpointCommand) -> Result<u8, Failure> {
    let b = open(cli)?;
    match cmd {
        EndpointCommand::Start(args) => {
            let status = deploy::start_endpoint(
                &b,
                &EndpointOptions {
                    port: args.port,
                    host: args.host.clone(),
                    metrics_interval: args.metrics_interval,
                },
            )?;
            emit(cli, &status, human::endpoint);
        }
        EndpointCommand::Stop => {
            let stopped = deploy::stop_endpoint(&b)?;
            emit(cli, &stopped, human::stopped);
        }
        EndpointCommand::Status => {
            let status = b.deployer.endpoint_status()?;
            emit(cli, &status, human::endpoint);
        }
        EndpointCommand::Serve(_) => {
            return Err(Failure::usage("serve runs the endpoint in the foreground"))
        }
    }
    Ok(0)
}

pub(crate) fn run(cli: &Cli, cmd: &DeployCommand) -> Result<u8, Failure> {
    let b = open(cli)?;
    match cmd {
        DeployCommand::Status => {
            let status = deploy::status(&b)?;
            emit(cli, &status, human::deploy_status);
        }
        DeployCommand::Promote { version, group } => {
            let progress = human::rollout_progress(cli.json);
            let done = RolloutReply::from(deploy::promote(&b, group, *version, &progress)?);
            emit(cli, &done, human::rollout);
        }
        DeployCommand::Rollback => {
            let progress = human::rollout_progress(cli.json);
            let done = RolloutReply::from(deploy::rollback(&b, &progress)?);
            emit(cli, &done, human::rollout);
        }
        DeployCommand::History => {
            let history = History {
                history: b.deployer.deployments()?,
            };
            emit(cli, &history, |h| human::history(&h.history));
        }
        DeployCommand::Diff {
            version,
            group,
            since,
        } => {
            let diff =
                tablero_app::monitor::promotion_diff(&b, group, *version, &parse_since(since)?)?;
            emit(cli, &diff, human::promotion_diff);
        }
    }
    Ok(0)
}

pub(crate) fn keys(cli: &Cli, cmd: &KeysCommand) -> Result<u8, Failure> {
    let b = open(cli)?;
    match cmd {
        KeysCommand::Create { name, rate } => {
            let made = keys::create(&b, name, *rate)?;
            emit(cli, &made, |k| {
                println!(
                    "Key {} ({} requests/s). Copy it now, it is not shown again:\n{}",
                    k.name, k.rate, k.key
                )
            });
        }
        KeysCommand::Ls => {
            let list = keys::list(&b)?;
            emit(cli, &list, |l| human::keys(&l.keys));
        }
        KeysCommand::Revoke { name } => {
            let revoked = keys::revoke(&b, name)?;
            emit(cli, &revoked, |r| println!("Revoked {}", r.revoked));
        }
    }
    Ok(0)
}
