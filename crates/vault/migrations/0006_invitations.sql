-- Invitations can be revoked: by an owner or admin (`DELETE /v1/members/invitations/{id}`)
-- or when the member who sent them is removed. A revoked invitation can no longer be used
-- to sign up. Times are microseconds since the Unix epoch, UTC.
ALTER TABLE invitations ADD COLUMN revoked_at INTEGER;
