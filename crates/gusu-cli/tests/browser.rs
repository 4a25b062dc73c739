//! End to end in a real browser: `gusu demo` serves the demo city and headless Chromium signs in
//! as each role, walks overview → district → list → enterprise, filters, exports and switches
//! language. Screenshots of the main pages land in `<target>/e2e-screenshots/`.

mod e2e;

use e2e::{Demo, Driver, click, fetch, path, screenshot, sign_in, text, wait_for_path};
use fantoccini::Locator;

/// Enterprises in the browser tests' demo city: every district has dozens, and a debug build
/// creates it in seconds.
const CITY: usize = 3000;

#[tokio::test(flavor = "multi_thread")]
async fn each_role_walks_from_the_overview_to_an_enterprise() {
    let demo = Demo::start(CITY);
    let driver = Driver::start();
    let base = &demo.url;

    for (user, home_text, district_name) in [
        ("admin", "全市概览", None),
        ("analyst", "全市概览", None),
        ("kunshan", "昆山市", Some("昆山市")),
    ] {
        let b = driver.browser().await;
        sign_in(&b, base, user).await;
        assert_eq!(path(&b).await, "/overview", "{user} lands on the overview");
        let overview = text(&b).await;
        assert!(overview.contains(home_text), "{user}: {overview}");
        for part in ["亩均税收", "分区县分布", "分行业分布", "D类企业名单"] {
            assert!(overview.contains(part), "{user}'s overview shows {part}");
        }
        screenshot(&b, &format!("overview-{user}")).await;

        // Overview → a district: the district's page, with the city beside it.
        click(&b, "#districts tbody a").await;
        assert!(path(&b).await.starts_with("/districts/"), "{user}");
        let district = text(&b).await;
        assert!(
            district.contains("全市 ·"),
            "{user}: the city's counts beside"
        );
        if let Some(name) = district_name {
            assert!(district.contains(name));
        }
        screenshot(&b, &format!("district-{user}")).await;

        // → the list, filtered to class D of the above-size group.
        b.goto(&format!("{base}/enterprises")).await.unwrap();
        b.find(Locator::Css("#filters select[name=class]"))
            .await
            .unwrap()
            .select_by_value("D")
            .await
            .unwrap();
        b.find(Locator::Css("#filters select[name=group]"))
            .await
            .unwrap()
            .select_by_value("above")
            .await
            .unwrap();
        click(&b, "#apply-filters").await;
        wait_for_path(&b, |p| p.contains("class=D")).await;
        let rows = b.find_all(Locator::Css("#results tbody tr")).await.unwrap();
        assert!(!rows.is_empty(), "{user} sees D-class enterprises");
        for row in &rows {
            let cells = row.find_all(Locator::Css("td")).await.unwrap();
            assert_eq!(cells[3].text().await.unwrap(), "D");
            if let Some(name) = district_name {
                assert_eq!(
                    cells[1].text().await.unwrap(),
                    name,
                    "officer sees own only"
                );
            }
        }
        screenshot(&b, &format!("list-{user}")).await;

        // The export of the selection is a workbook.
        let export = b
            .find(Locator::Css("#export"))
            .await
            .unwrap()
            .attr("href")
            .await
            .unwrap()
            .unwrap();
        assert!(export.contains("class=D"), "{export}");
        let (status, kind, size) = fetch(&b, &export).await;
        assert_eq!(status, 200, "{user} exports");
        assert!(kind.contains("spreadsheetml"), "{kind}");
        assert!(size > 1000);

        // → an enterprise: its evaluation, with the chart.
        click(&b, "#results tbody a").await;
        assert!(path(&b).await.starts_with("/enterprises/91"), "{user}");
        let page = text(&b).await;
        assert!(page.contains("评为 D 类"), "{user}: {page}");
        for part in ["企业档案", "历年评价", "年度数据及来源", "2024_tax.csv"] {
            assert!(page.contains(part), "{user}'s enterprise page shows {part}");
        }
        assert!(b.find(Locator::Css("main svg")).await.is_ok(), "a chart");
        screenshot(&b, &format!("enterprise-{user}")).await;

        if district_name.is_some() {
            // Another district is not there for an officer.
            b.goto(&format!("{base}/districts/320505")).await.unwrap();
            assert!(text(&b).await.contains("not_found"));
        }
        b.close().await.unwrap();
    }

    // An enterprise user lands on its own page, and nothing else is open to it.
    let b = driver.browser().await;
    sign_in(&b, base, "qiye").await;
    let own = path(&b).await;
    assert!(own.starts_with("/enterprises/91"), "{own}");
    screenshot(&b, "enterprise-own").await;
    assert!(
        b.find(Locator::Css("header a[href='/overview']"))
            .await
            .is_err(),
        "no staff links for an enterprise user"
    );
    for other in ["/overview", "/enterprises", "/districts/320583"] {
        b.goto(&format!("{base}{other}")).await.unwrap();
        let t = text(&b).await;
        assert!(
            t.contains("forbidden") || t.contains("not_found"),
            "{other}: {t}"
        );
    }
    b.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_language_switch_is_remembered() {
    let demo = Demo::start(CITY);
    let driver = Driver::start();
    let base = &demo.url;
    let b = driver.browser().await;
    sign_in(&b, base, "analyst").await;
    assert!(text(&b).await.contains("全市概览"));
    click(&b, "header a[href='?lang=en']").await;
    let en = text(&b).await;
    assert!(
        en.contains("City overview") && en.contains("tax per mu"),
        "{en}"
    );
    screenshot(&b, "overview-en").await;
    // Other pages follow without asking again.
    b.goto(&format!("{base}/enterprises")).await.unwrap();
    assert!(text(&b).await.contains("Export XLSX"));
    b.goto(&format!("{base}/rules")).await.unwrap();
    screenshot(&b, "rules-en").await;
    click(&b, "header a[href='?lang=zh']").await;
    assert!(text(&b).await.contains("评价方案"));
    b.close().await.unwrap();
}
