// Session ids are minted here and nowhere else: when several replicas share a load balancer, this is
// where an id will learn to carry (and sign) the replica that owns it.
import { randomBytes } from 'node:crypto';

/** 144 random bits, URL-safe, visible ASCII only (as the MCP spec asks of Mcp-Session-Id). */
export function mintSessionId(): string {
  return randomBytes(18).toString('base64url');
}
