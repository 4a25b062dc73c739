-- Security review (issue 11, point 8). A password an administrator set (a new account's, or a
-- reset) is known to someone other than its owner: the account must change it at its next
-- sign-in before it can do anything else. 1 until the owner changes it; the owner's own change
-- clears it. Accounts made before this migration keep the passwords their owners had.
ALTER TABLE accounts ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0
    CHECK (must_change_password IN (0, 1));
