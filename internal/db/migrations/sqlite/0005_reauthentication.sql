-- When the session's owner last proved who they are (password at sign-in or
-- re-authentication): sensitive settings ask again after ten minutes.

ALTER TABLE sessions ADD COLUMN authenticated_at TIMESTAMP;
