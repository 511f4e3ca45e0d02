-- Desks that belong to one person (building file: `assigned: true`): never
-- reported alone (docs/privacy.md). The building import adds the same column;
-- IF NOT EXISTS keeps the two idempotent in either order.
ALTER TABLE spaces ADD COLUMN IF NOT EXISTS assigned boolean NOT NULL DEFAULT false;
