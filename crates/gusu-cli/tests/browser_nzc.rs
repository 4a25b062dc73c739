//! A near-zero-carbon factory application in a real browser, on `gusu demo`: the enterprise opens
//! one under the Park's 2026 criteria from the navigation, records its evidence in the form, sees
//! every criterion met with a 100% offset ratio and submits; Kunshan's officer recommends it; the
//! city administrator certifies it; the enterprise reads the outcome. Screenshots land in
//! `<target>/e2e-screenshots/`.

mod e2e;

use e2e::{
    Demo, Driver, attr, click, fill, path, screenshot, select, sign_in, text, wait_for_path,
};

const CITY: usize = 3000;

async fn status(b: &fantoccini::Client) -> String {
    attr(b, "#status", "data-status").await
}

#[tokio::test(flavor = "multi_thread")]
async fn an_application_goes_from_the_enterprise_through_kunshan_to_the_city() {
    let demo = Demo::start(CITY);
    let driver = Driver::start();
    let base = &demo.url;

    // The demo's enterprise account (registered in Kunshan) opens an application.
    let qiye = driver.browser().await;
    sign_in(&qiye, base, "qiye").await;
    click(&qiye, "#nav-nzc").await;
    wait_for_path(&qiye, |p| p == "/nzc").await;
    assert!(text(&qiye).await.contains("暂无申报"));
    select(&qiye, "#open-criteria", "sip-nzc@2026.1").await;
    fill(&qiye, "#open-year", "2025").await;
    click(&qiye, "#open").await;
    wait_for_path(&qiye, |p| p.starts_with("/nzc/")).await;
    let application = path(&qiye).await;
    assert_eq!(status(&qiye).await, "draft");
    assert_eq!(attr(&qiye, "#verdict", "data-passes").await, "false");

    // The years gusu accounted from the demo's energy files come pre-filled (rows without ids);
    // the first blank row takes 2025.
    let prefilled = qiye
        .find_all(fantoccini::Locator::Css(
            "#emissions input[name^='emis_year_']:not([id])",
        ))
        .await
        .unwrap();
    assert!(
        !prefilled.is_empty(),
        "emissions pre-filled from the demo's energy lines"
    );
    // Evidence: a provincial green factory; 2025's scope 1 + 2 of 1,250 tCO₂ and 1,250 tCO₂ of
    // green certificates retired for 2025 (1,250 ÷ 1,250 = 100%, the Park asks 100%); no quota
    // standard applies.
    select(&qiye, "#green-factory", "provincial").await;
    fill(&qiye, "#emissions input[id^='emis-year-']", "2025").await;
    fill(&qiye, "#emissions input[id^='emis-tco2-']", "1250").await;
    fill(&qiye, "#off-kind-1", "green_certificate").await;
    fill(&qiye, "#off-ref-1", "GEC-2025-0042").await;
    fill(&qiye, "#off-amount-1", "1250").await;
    fill(&qiye, "#off-retired-1", "2026-01-20").await;
    fill(&qiye, "#off-year-1", "2025").await;
    select(&qiye, "#quota-applicable", "no").await;
    click(&qiye, "#save-evidence").await;
    qiye.wait()
        .for_element(fantoccini::Locator::Css("#verdict[data-passes='true']"))
        .await
        .unwrap();
    let page = text(&qiye).await;
    assert!(page.contains("100.0%"), "{page}");
    assert_eq!(
        attr(&qiye, "input[name=off_ref_1]", "value").await,
        "GEC-2025-0042"
    );
    screenshot(&qiye, "nzc-evidence-enterprise").await;
    click(&qiye, "#act-submit").await;
    qiye.wait()
        .for_element(fantoccini::Locator::Css("#status[data-status='submitted']"))
        .await
        .unwrap();

    // Kunshan's officer finds it in its list and recommends it to the city.
    let kunshan = driver.browser().await;
    sign_in(&kunshan, base, "kunshan").await;
    click(&kunshan, "#nav-nzc").await;
    wait_for_path(&kunshan, |p| p == "/nzc").await;
    click(&kunshan, "#nzc-applications tbody a").await;
    wait_for_path(&kunshan, |p| p == application).await;
    click(&kunshan, "#act-recommend").await;
    kunshan
        .wait()
        .for_element(fantoccini::Locator::Css(
            "#status[data-status='recommended']",
        ))
        .await
        .unwrap();
    screenshot(&kunshan, "nzc-recommended-district").await;

    // The city administrator certifies it.
    let admin = driver.browser().await;
    sign_in(&admin, base, "admin").await;
    admin.goto(&format!("{base}{application}")).await.unwrap();
    click(&admin, "#act-approve").await;
    admin
        .wait()
        .for_element(fantoccini::Locator::Css("#status[data-status='approved']"))
        .await
        .unwrap();
    let history = text(&admin).await;
    for step in ["提交区县审核", "推荐至市级", "认定"] {
        assert!(history.contains(step), "{step}: {history}");
    }
    screenshot(&admin, "nzc-approved-city").await;

    // The enterprise reads it: certified, no longer editable.
    qiye.refresh().await.unwrap();
    assert_eq!(status(&qiye).await, "approved");
    assert!(text(&qiye).await.contains("已认定"));
    for b in [qiye, kunshan, admin] {
        b.close().await.unwrap();
    }
}
