//! The fleet's day from the central MySQL/MariaDB the appliances sync to: the same figures as
//! one appliance's report, for every appliance of the fleet and for the fleet together.
//!
//! It only reads (it never creates or migrates the fleet database) and counts the rows with the
//! store's own [`Tally`], so an appliance's figures here are those of its own log. Phones are
//! keyed by what the appliances uploaded (a pseudonym, or the address with `sync.raw_macs`),
//! which is the same on every appliance of a fleet: "Fleet together" counts each phone once,
//! the union across appliances, not the sum. A phone's fleet dwell time runs from the first to
//! the last time any appliance heard it; it is returning when any appliance had seen it before.

use super::{DayReport, LocalDay};
use crate::config::{one_line, redact_url};
use crate::store::{Attempt, Period, Tally, Visit};
use crate::sync::MYSQL_SCHEMA_VERSION;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder, Row};
use std::collections::BTreeMap;
use std::time::Duration;

/// Connecting (DNS, TCP, TLS, login) takes at most this long.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// Where the fleet's rows are.
pub struct Source<'a> {
    /// `mysql://user[:password]@host[:port]/database`.
    pub url: &'a str,
    /// Used when the URL holds none (`sync.password`).
    pub password: Option<&'a str>,
    pub fleet: &'a str,
}

/// The fleet's day: all its appliances together, then each one, by name.
#[derive(Clone, Debug)]
pub struct FleetReport {
    pub fleet: String,
    pub together: DayReport,
    pub appliances: Vec<DayReport>,
}

/// The fleet's day; a failure is one line naming the cause (never the password).
pub async fn day(
    source: &Source<'_>,
    day: &LocalDay,
    min_rssi: Option<i16>,
) -> Result<FleetReport, String> {
    let mut conn = connect(source).await?;
    let result = read(&mut conn, source, day, min_rssi).await;
    let _ = conn.disconnect().await;
    result.map_err(|e| one_line(&e))
}

async fn connect(source: &Source<'_>) -> Result<Conn, String> {
    let shown = redact_url(source.url);
    let opts = Opts::from_url(source.url)
        .map_err(|e| format!("--mysql {shown:?} is not a usable MySQL URL: {e}"))?;
    let mut builder = OptsBuilder::from_opts(opts.clone()).prefer_socket(false);
    if let (None, Some(password)) = (opts.pass(), source.password) {
        builder = builder.pass(Some(password.to_string()));
    }
    match tokio::time::timeout(CONNECT_TIMEOUT, Conn::new(builder)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(format!("cannot connect to {shown}: {e}")),
        Err(_) => Err(format!(
            "cannot connect to {shown}: no answer within {}s",
            CONNECT_TIMEOUT.as_secs()
        )),
    }
}

async fn read(
    conn: &mut Conn,
    source: &Source<'_>,
    day: &LocalDay,
    min_rssi: Option<i16>,
) -> Result<FleetReport, String> {
    let shown = redact_url(source.url);
    check_schema(conn, &shown).await?;
    check_fleet(conn, source.fleet, &shown).await?;
    let starts = day.hour_starts();
    let period = Period {
        from_ms: day.from_ms(),
        to_ms: day.to_ms(),
        hour_starts: &starts,
        min_rssi,
    };
    let mut counts = Counts::new(&period);
    visits(conn, source.fleet, &period, &mut counts).await?;
    attempts(conn, source.fleet, &period, &mut counts).await?;
    if counts.rows == 0 {
        return Err(format!(
            "fleet {:?} has no visits or attempts on {} ({}) in {shown}",
            source.fleet,
            day.date_text(),
            day.zone_name()
        ));
    }
    let mut report = counts.report(source.fleet, day, &starts);
    hotspot(conn, source.fleet, &period, &mut report).await?;
    Ok(report)
}

/// The hotspot's figures of the fleet's day, together (each Wi-Fi address once) and per
/// appliance; none from a database older than the `wifi_events` table.
const HOTSPOT: &str = "
SELECT COALESCE(appliance, ''), count(DISTINCT visitor), COALESCE(SUM(kind = 'visit'), 0),
       COALESCE(SUM(kind = 'download'), 0)
FROM wifi_events WHERE fleet = ? AND at_ms >= ? AND at_ms < ?
GROUP BY appliance WITH ROLLUP";

async fn hotspot(
    conn: &mut Conn,
    fleet: &str,
    p: &Period<'_>,
    report: &mut FleetReport,
) -> Result<(), String> {
    let rows: Vec<(String, u64, u64, u64)> =
        match conn.exec(HOTSPOT, (fleet, p.from_ms, p.to_ms)).await {
            Err(mysql_async::Error::Server(e)) if e.code == 1146 => return Ok(()),
            other => other.map_err(|e| format!("reading the hotspot's visits: {e}"))?,
        };
    for (appliance, visitors, visits, downloads) in rows {
        let figures = crate::store::WifiStatus {
            visitors,
            visits,
            downloads,
        };
        // WITH ROLLUP's total row has no appliance.
        match report
            .appliances
            .iter_mut()
            .find(|a| a.appliance == appliance)
        {
            Some(a) => a.hotspot = figures,
            None if appliance.is_empty() => report.together.hotspot = figures,
            None => {}
        }
    }
    Ok(())
}

/// The database holds o4send's tables in a shape this o4send reads.
async fn check_schema(conn: &mut Conn, shown: &str) -> Result<(), String> {
    let version: Option<u32> = match conn
        .query_first("SELECT version FROM o4send_schema WHERE id = 1")
        .await
    {
        Err(mysql_async::Error::Server(e)) if e.code == 1146 => {
            return Err(format!(
                "{shown} holds no o4send fleet database (no o4send_schema table): \
                 has an appliance synced to it?"
            ))
        }
        other => other.map_err(|e| format!("reading {shown}: {e}"))?,
    };
    match version.unwrap_or(0) {
        0 => Err(format!("{shown}: the fleet database is not set up yet")),
        v if v > MYSQL_SCHEMA_VERSION => Err(format!(
            "{shown}: fleet database schema version {v} is newer than this o4send reads \
             ({MYSQL_SCHEMA_VERSION}); upgrade o4send"
        )),
        _ => Ok(()),
    }
}

/// The fleet has rows, or the names of the fleets that do. A fleet that ever uploaded an
/// attempt is in `fleets`; only for one that is not are the visits searched (a full scan).
async fn check_fleet(conn: &mut Conn, fleet: &str, shown: &str) -> Result<(), String> {
    let failed = |e: mysql_async::Error| format!("reading the fleets in {shown}: {e}");
    let listed: Option<String> = conn
        .exec_first("SELECT fleet FROM fleets WHERE fleet = ?", (fleet,))
        .await
        .map_err(failed)?;
    if listed.is_some() {
        return Ok(());
    }
    let known: Vec<String> = conn
        .query("SELECT fleet FROM fleets UNION SELECT DISTINCT fleet FROM sightings ORDER BY 1")
        .await
        .map_err(failed)?;
    if known.iter().any(|f| f == fleet) {
        return Ok(());
    }
    let list = if known.is_empty() {
        "none yet".to_string()
    } else {
        known.join(", ")
    };
    Err(format!(
        "fleet {fleet:?} is not in {shown} (its fleets: {list})"
    ))
}

/// Visits of the fleet's phones in the period, with whether the phone had been seen before it
/// by the same appliance, and by any appliance of the fleet.
const VISITS: &str = "
SELECT s.appliance, s.phone, s.first_seen_ms, s.last_seen_ms, s.rssi_max,
       EXISTS(SELECT 1 FROM sightings e WHERE e.phone = s.phone AND e.fleet = s.fleet
              AND e.appliance = s.appliance AND e.first_seen_ms < ?) AS here_before,
       EXISTS(SELECT 1 FROM sightings e WHERE e.phone = s.phone AND e.fleet = s.fleet
              AND e.first_seen_ms < ?) AS fleet_before
FROM sightings s
WHERE s.fleet = ? AND s.last_seen_ms >= ? AND s.first_seen_ms < ?";

/// Attempts of the fleet ended in the period.
const ATTEMPTS: &str = "
SELECT appliance, phone, item_name, radio, outcome, ended_ms FROM attempts
WHERE fleet = ? AND ended_ms >= ? AND ended_ms < ?";

type VisitRow = (String, String, i64, i64, Option<i64>, i64, i64);
type AttemptRow = (String, String, String, String, String, i64);

async fn visits(
    conn: &mut Conn,
    fleet: &str,
    p: &Period<'_>,
    counts: &mut Counts<'_>,
) -> Result<(), String> {
    let params = (p.from_ms, p.from_ms, fleet, p.from_ms, p.to_ms);
    each_row(conn, VISITS, params, "visits", |row: VisitRow| {
        counts.visit(row)
    })
    .await
}

async fn attempts(
    conn: &mut Conn,
    fleet: &str,
    p: &Period<'_>,
    counts: &mut Counts<'_>,
) -> Result<(), String> {
    let params = (fleet, p.from_ms, p.to_ms);
    each_row(conn, ATTEMPTS, params, "attempts", |row: AttemptRow| {
        counts.attempt(row)
    })
    .await
}

/// Streams the rows of `sql` into `each`; a row of the wrong shape is an error, not a panic.
async fn each_row<T: mysql_async::prelude::FromRow>(
    conn: &mut Conn,
    sql: &str,
    params: impl Into<mysql_async::Params> + Send,
    what: &str,
    mut each: impl FnMut(T),
) -> Result<(), String> {
    let failed = |e: &dyn std::fmt::Display| format!("reading the fleet's {what}: {e}");
    let mut bad = None;
    let mut result = conn.exec_iter(sql, params).await.map_err(|e| failed(&e))?;
    result
        .for_each(|row: Row| match mysql_async::from_row_opt::<T>(row) {
            Ok(t) => each(t),
            Err(e) => {
                bad.get_or_insert(e.to_string());
            }
        })
        .await
        .map_err(|e| failed(&e))?;
    bad.map_or(Ok(()), |e| Err(failed(&e)))
}

/// The running counts: the fleet's, and each appliance's.
struct Counts<'p> {
    period: &'p Period<'p>,
    together: Tally<String>,
    each: BTreeMap<String, Tally<String>>,
    rows: u64,
}

impl<'p> Counts<'p> {
    fn new(period: &'p Period<'p>) -> Counts<'p> {
        Counts {
            period,
            together: Tally::new(period),
            each: BTreeMap::new(),
            rows: 0,
        }
    }

    fn appliance(&mut self, name: String) -> &mut Tally<String> {
        let period = self.period;
        self.rows += 1;
        self.each.entry(name).or_insert_with(|| Tally::new(period))
    }

    fn visit(&mut self, row: VisitRow) {
        let (appliance, phone, first_ms, last_ms, rssi_max, here, anywhere) = row;
        let visit = |returning: bool, phone: String| Visit {
            phone,
            first_ms,
            last_ms,
            rssi_max,
            returning,
        };
        self.together.visit(visit(anywhere != 0, phone.clone()));
        self.appliance(appliance).visit(visit(here != 0, phone));
    }

    fn attempt(&mut self, row: AttemptRow) {
        let (appliance, phone, item, radio, outcome, ended_ms) = row;
        let fleet_radio = format!("{appliance} / {radio}");
        self.together.attempt(Attempt {
            phone: phone.clone(),
            item: &item,
            radio: &fleet_radio,
            outcome: &outcome,
            ended_ms,
        });
        self.appliance(appliance).attempt(Attempt {
            phone,
            item: &item,
            radio: &radio,
            outcome: &outcome,
            ended_ms,
        });
    }

    fn report(self, fleet: &str, day: &LocalDay, starts: &[i64]) -> FleetReport {
        let together = DayReport::new("Fleet together", day, starts, self.together.figures());
        let appliances = self
            .each
            .into_iter()
            .map(|(name, tally)| DayReport::new(&name, day, starts, tally.figures()))
            .collect();
        FleetReport {
            fleet: fleet.to_string(),
            together,
            appliances,
        }
    }
}
