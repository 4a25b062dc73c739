//! Chinese company names that look like the ones in a Suzhou enterprise register, unique in a city.

use std::collections::HashSet;

use rand::RngExt;
use rand::seq::IndexedRandom;

use crate::profile::Profile;

/// Characters firms choose for their trade names (字号): auspicious words and local place names.
/// No 国 or 广: 中国 needs special approval and a province in a trade name looks odd.
const TRADE_CHARS: &[char] = &[
    '华', '盛', '鑫', '源', '达', '恒', '泰', '宏', '昌', '隆', '丰', '瑞', '祥', '润', '康', '安',
    '通', '信', '立', '新', '创', '科', '联', '合', '力', '远', '东', '方', '中', '南', '北', '金',
    '银', '宝', '利', '永', '兴', '佳', '益', '嘉', '美', '德', '正', '诚', '凯', '博', '奥', '亚',
    '天', '海', '江', '湖', '山', '峰', '林', '森', '阳', '光', '明', '辉', '晨', '星', '宇', '航',
    '翔', '飞', '龙', '凤', '鹏', '腾', '跃', '锦', '绣', '彩', '虹', '汇', '聚', '众', '协', '同',
    '和', '顺', '福', '吉', '庆', '禾', '吴', '枫', '桥', '月', '湾', '澄', '湘', '沪', '锡', '昆',
    '仑', '盘', '平', '狮', '沙', '洲', '梅', '竹', '兰', '松', '柏', '云', '霞', '精', '工', '铭',
    '晟', '烨', '昊', '璟', '骏', '轩', '致', '卓', '越', '睿', '智', '优', '尚', '万', '千', '百',
    '一', '三', '九', '久', '长', '大', '富', '贵', '荣', '旺', '振', '威', '雄', '伟', '豪', '杰',
    '英', '俊', '文', '艺', '茂', '裕', '祺', '禧', '铂', '钰', '琪', '玮', '璞',
];

/// Words after the trade: what the company calls itself.
const SUFFIXES: &[&str] = &["科技", "制造", "实业", "工业", "技术", ""];

/// Makes names and remembers them, so no two enterprises share one.
#[derive(Debug, Default)]
pub(crate) struct NameMaker {
    taken: HashSet<String>,
}

impl NameMaker {
    pub fn with_capacity(n: usize) -> NameMaker {
        NameMaker {
            taken: HashSet::with_capacity(n),
        }
    }

    /// A new unique name for an enterprise of the profile's division whose names start with
    /// `prefix` (苏州, 昆山, ...).
    pub fn make<R: RngExt>(
        &mut self,
        rng: &mut R,
        prefix: &str,
        profile: &Profile,
        above_scale: bool,
    ) -> String {
        // Trade names of two characters are the norm; a crowded city (a million enterprises in a
        // benchmark) runs out of them, so a third character is added after a few collisions.
        for attempt in 0.. {
            let chars = if attempt < 12 { 2 } else { 3 + attempt / 40 };
            let name = self.candidate(rng, prefix, profile, above_scale, chars);
            if !self.taken.contains(&name) {
                self.taken.insert(name.clone());
                return name;
            }
        }
        unreachable!("the attempt loop only ends by returning")
    }

    fn candidate<R: RngExt>(
        &self,
        rng: &mut R,
        prefix: &str,
        profile: &Profile,
        above_scale: bool,
        chars: usize,
    ) -> String {
        let mut trade = String::with_capacity(chars * 3);
        for _ in 0..chars {
            trade.push(*TRADE_CHARS.choose(rng).expect("non-empty"));
        }
        let word = *profile.words.choose(rng).expect("non-empty");
        let utility = matches!(profile.division, "44" | "45" | "46");
        let form = if above_scale && rng.random_bool(0.15) {
            "股份有限公司"
        } else {
            "有限公司"
        };
        let roll: f64 = rng.random();
        if utility {
            // Power plants and waterworks do not call themselves 科技.
            format!("{prefix}{trade}{word}{form}")
        } else if roll < 0.12 {
            // Foreign-invested plants: the group's trade name, the place in brackets.
            format!("{trade}{word}（{prefix}）有限公司")
        } else if roll < 0.18 && above_scale {
            format!("江苏{trade}{word}{}{form}", self.suffix(rng, word))
        } else {
            format!("{prefix}{trade}{word}{}{form}", self.suffix(rng, word))
        }
    }

    fn suffix<R: RngExt>(&self, rng: &mut R, word: &str) -> &'static str {
        if word.ends_with("科技") {
            ""
        } else {
            SUFFIXES.choose(rng).expect("non-empty")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::PROFILES;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn names_are_unique_and_say_where_and_what() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut maker = NameMaker::default();
        let electronics = PROFILES.iter().find(|p| p.division == "39").unwrap();
        let names: Vec<String> = (0..50_000)
            .map(|_| maker.make(&mut rng, "昆山", electronics, true))
            .collect();
        let unique: HashSet<&String> = names.iter().collect();
        assert_eq!(unique.len(), names.len());
        assert!(
            names
                .iter()
                .all(|n| (n.contains("昆山") || n.starts_with("江苏")) && n.ends_with("公司"))
        );
        assert!(names.iter().any(|n| n.contains("（昆山）")));
    }
}
