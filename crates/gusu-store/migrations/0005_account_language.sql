-- Each account's page language, remembered across browsers (issue 3: "English switch remembered
-- per user"). NULL: not chosen yet (Chinese, or the browser's cookie).
ALTER TABLE accounts ADD COLUMN language TEXT CHECK (language IN ('zh', 'en'));
