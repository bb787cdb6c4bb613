// This process's replica id, minted once: session ids and MRTR requestStates name the replica that owns
// them, so that a second replica behind the same load balancer can later forward to the owner.
import { randomBytes } from 'node:crypto';

/** 48 random bits, URL-safe; fixed for the life of the process. */
export const REPLICA_ID = randomBytes(6).toString('base64url');
