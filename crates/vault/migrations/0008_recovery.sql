-- Account recovery (issue 18). A password-reset link is an email token of purpose
-- 'reset_password', stored as a keyed hash like a verification link. Asking for one looks
-- for the user's open reset links, and a reset voids them all: both by user, hence this
-- index (email_tokens had only its token-hash lookup).
CREATE INDEX email_tokens_user ON email_tokens(tenant_id, user_id, purpose);
