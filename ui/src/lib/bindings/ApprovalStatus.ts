// Mirrors tablero_core::registry::ApprovalStatus (SageMaker names).

export type ApprovalStatus = "PendingManualApproval" | "Approved" | "Rejected";
