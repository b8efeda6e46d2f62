//! The backend conformance suite (`tablero-conformance`) against the AWS
//! backend on moto's standalone server: S3, the SageMaker Model Registry,
//! API Gateway keys, STS identities (one assumed role per persona), the
//! audit trail in S3, deployments on the ECS service, metrics in
//! CloudWatch; jobs in the workspace.

mod support;

use support::AwsHarness;

tablero_conformance::conformance_suite!(AwsHarness::new();
    put_streams_with_progress,
    an_aborted_put_leaves_nothing,
    a_put_of_the_wrong_length_leaves_nothing,
    listing_pages_cover_every_object_once,
    head_tells_size_time_class_and_metadata,
    range_reads_are_exact,
    missing_objects_are_not_found,
    a_deleted_object_comes_back_from_the_trash,
    restoring_an_object_that_is_not_archived_is_refused,
    archived_object_is_restored,
    a_job_reports_progress_and_commits_its_output,
    a_kept_clean_job_gives_the_features_job_the_same_table,
    a_cancelled_job_writes_nothing,
    a_failed_job_says_why_and_writes_nothing,
    a_missing_input_is_refused_before_a_job_is_queued,
    register_approve_promote_rollback_with_every_refusal,
    a_remote_trainer_registers_its_result,
    a_cancelled_training_registers_nothing,
    #[ignore = "CloudWatch evaluates the alarms, not the metrics' writer: tests/cloudwatch.rs covers windows, drift, alarms and the live sample on AWS"]
    metric_windows_drift_and_alarms_round_trip,
    the_audit_trail_is_complete_and_append_only,
    api_keys_are_shown_once_listed_by_hash_and_revoked,
    identity_roles_and_policy,
);
