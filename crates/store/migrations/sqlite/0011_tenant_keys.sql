-- A tenant's rows are keyed by tenants.tenant_id; public_id is the id its tokens and
-- answers carry. The two differ once a test suite has reset the tenant: the reset moves
-- the tenant's apps and clients to a fresh key at once and retires the old key, whose
-- users are then deleted in the background (a reset answers without waiting for them).
ALTER TABLE tenants ADD COLUMN public_id TEXT;
ALTER TABLE tenants ADD COLUMN retired_at BIGINT;
UPDATE tenants SET public_id = tenant_id;
CREATE UNIQUE INDEX tenants_public_uq ON tenants (public_id) WHERE retired_at IS NULL;
