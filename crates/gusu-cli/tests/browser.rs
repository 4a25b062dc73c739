//! End to end in a real browser: `gusu demo` serves the demo city and headless Chromium signs in
//! as each role, walks overview → district → list → enterprise, filters, exports and switches
//! language. Screenshots of the main pages land in `<target>/e2e-screenshots/`.

mod e2e;

use e2e::{
    Demo, Driver, attr, click, fetch, fetch_json, fill, path, screenshot, select, sign_in, text,
    wait_for_path,
};
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
    assert!(
        b.find(Locator::Css("#lifts")).await.is_ok(),
        "its improvement hints, without asking: {}",
        text(&b).await
    );
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
        en.contains("City overview") && en.contains("Tax per mu"),
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

/// A district's whole evaluation cycle in the browser: the city administrator starts it and moves
/// it on, an enterprise flags its figures, two enterprises object, one objection is accepted
/// (its figure changes and the evaluation is re-run as version 2) and one rejected, the result
/// is published and the enterprise reads its notice.
#[tokio::test(flavor = "multi_thread")]
async fn a_full_evaluation_cycle_with_one_objection_accepted_and_one_rejected() {
    let mut demo = Demo::start(CITY);
    let driver = Driver::start();
    let base = demo.url.clone();

    // The enterprises: the demo's own account, and a second one made with the CLI.
    let qiye = driver.browser().await;
    sign_in(&qiye, &base, "qiye").await;
    let qiye_uscc = path(&qiye)
        .await
        .trim_start_matches("/enterprises/")
        .to_string();
    let admin = driver.browser().await;
    sign_in(&admin, &base, "admin").await;
    let kunshan = fetch_json(
        &admin,
        "/api/v1/results/2024?district=320583&status=graded&group=above",
    )
    .await;
    let other = kunshan["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["uscc"].as_str().unwrap().to_string())
        .find(|u| *u != qiye_uscc)
        .unwrap();
    demo.gusu(
        &[
            "user",
            "add",
            "qiye2",
            "--role",
            "enterprise",
            "--uscc",
            &other,
            "--password-stdin",
        ],
        e2e::DEMO_PASSWORD,
    );

    // Draft: the administrator starts Kunshan's cycle and opens data confirmation.
    admin.goto(&format!("{base}/cycles/new")).await.unwrap();
    fill(&admin, "#year", "2024").await;
    select(&admin, "#region", "320583").await;
    click(&admin, "#start").await;
    wait_for_path(&admin, |p| p.starts_with("/cycles/") && !p.contains("new")).await;
    let cycle = path(&admin).await;
    assert_eq!(attr(&admin, "#stage", "data-stage").await, "draft");
    screenshot(&admin, "cycle-draft").await;
    click(&admin, "#advance").await;
    wait_for_stage(&admin, "data_confirmation").await;

    // Data confirmation: the enterprise flags a figure.
    qiye.goto(&format!("{base}/my/cycle")).await.unwrap();
    fill(&qiye, "#flag-message", "2024 年税收应含第四季度补缴").await;
    click(&qiye, "#flag").await;
    qiye.wait()
        .for_element(Locator::Css("#my-answer"))
        .await
        .unwrap();
    screenshot(&qiye, "cycle-confirmation-enterprise").await;
    admin.goto(&format!("{base}{cycle}")).await.unwrap();
    assert_eq!(
        admin
            .find(Locator::Css("#flagged-count"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "1"
    );
    click(&admin, "#advance").await;
    wait_for_stage(&admin, "public_notice").await;

    // Public notice: both enterprises object; qiye proposes a corrected tax figure.
    qiye.goto(&format!("{base}/my/cycle")).await.unwrap();
    let class_before = qiye
        .find(Locator::Css("#my-class"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    fill(
        &qiye,
        "#objection-reasons",
        "税务局 2024 年数据漏计第四季度补缴税款",
    )
    .await;
    select(&qiye, "#objection-field-1", "tax_paid_10k_yuan").await;
    fill(&qiye, "#objection-value-1", "100000").await;
    fill(&qiye, "#attachment-name", "完税证明.pdf").await;
    fill(&qiye, "#attachment-type", "application/pdf").await;
    fill(&qiye, "#attachment-size", "48213").await;
    fill(
        &qiye,
        "#attachment-sha256",
        "9f2c1e0b7a4d3c2b1a09f8e7d6c5b4a39f2c1e0b7a4d3c2b1a09f8e7d6c5b4a3",
    )
    .await;
    click(&qiye, "#file-objection").await;
    screenshot(&qiye, "cycle-objection-enterprise").await;
    let qiye2 = driver.browser().await;
    sign_in(&qiye2, &base, "qiye2").await;
    qiye2.goto(&format!("{base}/my/cycle")).await.unwrap();
    fill(&qiye2, "#objection-reasons", "我们认为用地面积有误").await;
    click(&qiye2, "#file-objection").await;

    // The notice period is real time: rehearse its end by moving the cycle's clock 8 days on.
    for b in [qiye, qiye2, admin] {
        b.close().await.unwrap();
    }
    // `gusu serve` asks administrators for a TOTP code; the demo's have none enrolled (the second
    // factor has its own tests in gusu-web's sign_in.rs and here in cli.rs).
    demo.restart(&[
        ("GUSU__CYCLE__REHEARSAL_CLOCK_OFFSET_DAYS", "8"),
        ("GUSU__SESSION__ADMIN_SECOND_FACTOR", "false"),
    ]);
    let admin = driver.browser().await;
    sign_in(&admin, &base, "admin").await;
    admin.goto(&format!("{base}{cycle}")).await.unwrap();
    click(&admin, "#advance").await;
    wait_for_stage(&admin, "review").await;

    // Review: accept qiye's objection, reject the other, each with its reason.
    let rows = admin
        .find_all(Locator::Css("#objections tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    let mut ids = Vec::new();
    for row in rows {
        let id = row.attr("id").await.unwrap().unwrap();
        let who = row.text().await.unwrap();
        ids.push((
            id.trim_start_matches("objection-").to_string(),
            who.contains(&qiye_uscc),
        ));
    }
    for (id, is_qiye) in &ids {
        admin.goto(&format!("{base}{cycle}")).await.unwrap();
        let (reason, button) = if *is_qiye {
            ("核实完税证明无误，采纳", format!("#accept-{id}"))
        } else {
            (
                "用地面积与不动产登记一致，不予采纳",
                format!("#reject-{id}"),
            )
        };
        fill(&admin, &format!("#decision-reason-{id}"), reason).await;
        click(&admin, &button).await;
        admin
            .wait()
            .for_element(Locator::Css(&format!(
                "#objection-{id}:not([data-status='open'])"
            )))
            .await
            .unwrap();
    }
    admin.goto(&format!("{base}{cycle}")).await.unwrap();
    for (id, is_qiye) in &ids {
        let status = attr(&admin, &format!("#objection-{id}"), "data-status").await;
        assert_eq!(status, if *is_qiye { "accepted" } else { "rejected" });
    }
    assert!(
        admin.find(Locator::Css("#version-2")).await.is_ok(),
        "accepted: a new version"
    );
    screenshot(&admin, "cycle-review").await;
    click(&admin, "#advance").await;
    wait_for_stage(&admin, "published").await;
    screenshot(&admin, "cycle-published").await;

    // The enterprise reads its result notice; its figure now comes from the objection.
    let qiye = driver.browser().await;
    sign_in(&qiye, &base, "qiye").await;
    qiye.goto(&format!("{base}/notices")).await.unwrap();
    let notice = qiye
        .find(Locator::Css("[id^='notice-']"))
        .await
        .expect("a result notice");
    assert_eq!(
        notice.attr("data-read").await.unwrap().as_deref(),
        Some("no")
    );
    screenshot(&qiye, "cycle-notice").await;
    let id = notice.attr("id").await.unwrap().unwrap();
    click(
        &qiye,
        &format!("#acknowledge-{}", id.trim_start_matches("notice-")),
    )
    .await;
    qiye.wait()
        .for_element(Locator::Css(&format!("#{id}[data-read='yes']")))
        .await
        .expect("the notice is marked read");
    qiye.goto(&format!("{base}/my/cycle")).await.unwrap();
    let class_after = qiye
        .find(Locator::Css("#my-class"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        class_after <= class_before,
        "{class_before} → {class_after}: more tax, no lower class"
    );
    let figures = qiye
        .find(Locator::Css("#my-figures"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // Its own page lists the notice, and shows the district's published result (the notice's).
    qiye.goto(&format!("{base}/")).await.unwrap();
    assert!(
        qiye.find(Locator::Css("#own-notices")).await.is_ok(),
        "{}",
        text(&qiye).await
    );
    let own_page = text(&qiye).await;
    assert!(
        own_page.contains(&format!("评为 {class_after} 类")),
        "{class_after}: {own_page}"
    );
    screenshot(&qiye, "enterprise-own-after-cycle").await;
    qiye.close().await.unwrap();
    assert!(
        figures.contains("objection"),
        "the corrected value's source: {figures}"
    );
}

async fn wait_for_stage(b: &fantoccini::Client, stage: &str) {
    let start = std::time::Instant::now();
    loop {
        if let Ok(e) = b.find(Locator::Css("#stage")).await
            && e.attr("data-stage").await.ok().flatten().as_deref() == Some(stage)
        {
            return;
        }
        assert!(
            start.elapsed().as_secs() < 10,
            "stage {stage} not reached: {}",
            text(b).await
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// A district officer uploads a tax file with errors (and a row of another district), reads the
/// report in the page, cancels; uploads it again and commits the good rows, which then show in
/// the past imports and as the source of the enterprise's figure.
#[tokio::test(flavor = "multi_thread")]
async fn an_upload_with_errors_shows_its_report_then_commits_the_good_rows() {
    let demo = Demo::start(CITY);
    let driver = Driver::start();
    let base = &demo.url;
    let analyst = driver.browser().await;
    sign_in(&analyst, base, "analyst").await;
    let pick = |district: &str, n: usize| {
        let analyst = &analyst;
        let url = format!("/api/v1/results/2024?district={district}&status=graded");
        async move {
            fetch_json(analyst, &url).await["results"][n]["uscc"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let (own, own2, other) = (
        pick("320583", 0).await,
        pick("320583", 1).await,
        pick("320505", 0).await,
    );
    analyst.close().await.unwrap();
    // Row 2 is fine; row 3 is another district's; row 4 has a broken code; row 5 a bad number.
    let file = demo.dir.path().join("2024_税务_补充.csv");
    std::fs::write(
        &file,
        format!(
            "统一社会信用代码,年度,实缴税金\n{own},2024,1234.5\n{other},2024,88\n91320583XYZ,2024,5\n{own2},2024,abc\n"
        ),
    )
    .unwrap();

    let upload = |b: &fantoccini::Client| {
        let file = file.clone();
        let b = b.clone();
        async move {
            b.find(Locator::Css("#import-file"))
                .await
                .unwrap()
                .send_keys(&file.display().to_string())
                .await
                .unwrap();
            select(&b, "#import-kind", "annual").await;
            select(&b, "#import-source", "tax").await;
            fill(&b, "#import-year", "2024").await;
            click(&b, "#import-submit").await;
            b.wait()
                .for_element(Locator::Css("#import-summary"))
                .await
                .expect("the validation report");
        }
    };
    // The city's staff see the same file's report: the other district's row is theirs to import.
    for user in ["admin", "analyst"] {
        let b = driver.browser().await;
        sign_in(&b, base, user).await;
        click(&b, "#nav-imports").await;
        upload(&b).await;
        let rows = b
            .find_all(Locator::Css(
                "#import-findings tbody tr.error td:first-child",
            ))
            .await
            .unwrap();
        let mut rows_text = Vec::new();
        for r in rows {
            rows_text.push(r.text().await.unwrap());
        }
        assert_eq!(rows_text, ["4", "5"], "{user}");
        assert_eq!(
            b.find(Locator::Css("#import-accepted"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
            "2",
            "{user}"
        );
        screenshot(&b, &format!("import-report-{user}")).await;
        click(&b, "#import-cancel button").await;
        b.close().await.unwrap();
    }

    let b = driver.browser().await;
    sign_in(&b, base, "kunshan").await;
    click(&b, "#nav-imports").await;
    upload(&b).await;
    let report = text(&b).await;
    let findings = b
        .find_all(Locator::Css("#import-findings tbody tr.error"))
        .await
        .unwrap();
    assert!(findings.len() >= 3, "{report}");
    let rows: Vec<String> = {
        let mut rows = Vec::new();
        for f in &findings {
            rows.push(
                f.find(Locator::Css("td"))
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap(),
            );
        }
        rows
    };
    for row in ["3", "4", "5"] {
        assert!(
            rows.iter().any(|r| r == row),
            "row {row} reported: {rows:?}"
        );
    }
    assert!(report.contains(&other), "the other district's row is named");
    screenshot(&b, "import-report").await;
    click(&b, "#import-cancel button").await;
    wait_for_path(&b, |p| p == "/imports" || p.starts_with("/imports?")).await;
    assert!(
        b.find(Locator::Css("#past-imports [data-batch]"))
            .await
            .is_err()
            || !text(&b).await.contains("2024_税务_补充.csv"),
        "a cancelled upload is not an import"
    );

    upload(&b).await;
    assert_eq!(
        b.find(Locator::Css("#import-accepted"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "1"
    );
    click(&b, "#import-commit button").await;
    b.wait()
        .for_element(Locator::Css("#import-batch"))
        .await
        .expect("a committed batch");
    screenshot(&b, "import-committed").await;
    b.goto(&format!("{base}/imports")).await.unwrap();
    assert!(
        text(&b).await.contains("2024_税务_补充.csv"),
        "past imports list it"
    );
    // The enterprise's page names the new file as the source of its tax.
    b.goto(&format!("{base}/enterprises/{own}")).await.unwrap();
    let page = text(&b).await;
    b.close().await.unwrap();
    // …and shows it as people read it, with a thousands separator.
    assert!(
        page.contains("2024_税务_补充.csv") && page.contains("1,234.5"),
        "{page}"
    );
}

/// Energy and carbon: the analyst opens the dashboard from the header, narrows it to a district,
/// and an enterprise user opens its own energy page (monthly profile, lines, factors) from the
/// header; another enterprise's page does not exist for it.
#[tokio::test(flavor = "multi_thread")]
async fn energy_dashboard_and_an_enterprises_own_energy_page() {
    let demo = Demo::start(CITY);
    let driver = Driver::start();
    let base = &demo.url;

    let b = driver.browser().await;
    sign_in(&b, base, "analyst").await;
    click(&b, "#nav-energy").await;
    wait_for_path(&b, |p| p == "/energy").await;
    let page = text(&b).await;
    for part in [
        "能耗与碳排放",
        "范围一",
        "能耗强度",
        "排放最多的企业",
        "碳效等级分布",
        "未设定目标",
    ] {
        assert!(page.contains(part), "the dashboard shows {part}");
    }
    screenshot(&b, "energy-dashboard").await;
    select(&b, "form.filters select[name=district]", "320583").await;
    click(&b, "form.filters button").await;
    // The filter is a GET form: wait for the new page before reading it (else the old body can
    // go stale under the read).
    wait_for_path(&b, |p| p.contains("district=320583")).await;
    assert!(text(&b).await.contains("昆山市"));
    screenshot(&b, "energy-dashboard-kunshan").await;
    // A top emitter's page, from the table.
    click(&b, "#top-emitters tbody a").await;
    wait_for_path(&b, |p| {
        p.starts_with("/enterprises/") && p.ends_with("/energy")
    })
    .await;
    assert!(text(&b).await.contains("能源消费明细"));
    b.close().await.unwrap();

    let q = driver.browser().await;
    sign_in(&q, base, "qiye").await;
    click(&q, "#nav-energy").await;
    wait_for_path(&q, |p| p.starts_with("/enterprises/")).await;
    let own = path(&q).await;
    assert!(
        own.starts_with("/enterprises/") && own.ends_with("/energy"),
        "{own}"
    );
    let page = text(&q).await;
    for part in [
        "计量月度用量",
        "排放构成",
        "能源消费明细",
        "所用因子",
        "外购电力",
    ] {
        assert!(page.contains(part), "the enterprise's page shows {part}");
    }
    let svgs = q
        .find_all(Locator::Css(".monthly-chart svg rect"))
        .await
        .unwrap()
        .len();
    assert!(svgs >= 12, "a column per month: {svgs}");
    screenshot(&q, "energy-enterprise-own").await;
    // Another enterprise's energy: as if it did not exist.
    let other = fetch_json(&q, &format!("{base}/api/v1/energy/2024")).await;
    assert_eq!(other["error"]["code"], "forbidden", "{other}");
    q.close().await.unwrap();
}
