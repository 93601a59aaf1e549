-- Account recovery (issue 18). A password-reset link is an email token of purpose
-- 'reset_password', stored as a keyed hash like a verification link; email_tokens keeps
-- its row-level security (tenant rows, plus the SELECT lookup by the link's hash) and its
-- grants (SELECT, INSERT, UPDATE: a spent or voided link is marked used, never deleted).
-- Asking for a link looks for the user's open reset links, and a reset voids them all:
-- both by user, hence this index (SQLite's 0008_recovery.sql has the same).
CREATE INDEX email_tokens_user ON email_tokens(tenant_id, user_id, purpose);
