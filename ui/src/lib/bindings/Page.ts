// Mirrors tablero_core::store::Page.
import type { ObjectInfo } from "./ObjectInfo";

/**
 * One page of a listing.
 */
export type Page = { objects: Array<ObjectInfo>; next_token: string | null };
