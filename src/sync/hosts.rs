//! A fleet database of several servers: the nodes of a MariaDB Galera cluster, say, each of which
//! takes writes. `sync.mysql_url` may name them all, `mysql://o4send@db1:3306,db2:3306,db3/o4send`,
//! and the appliance connects to the first that answers, in the order given: each booth names
//! its own node first and moves on to the next while that one is down. mysql_async takes one host
//! per URL, so the list is split here into one URL per host, each with the same user, password,
//! database and options.

/// One URL per host of `url`, in the order given. A URL with one host (or one this cannot read)
/// is returned as it is, for the driver to judge.
pub fn split(url: &str) -> Vec<String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return vec![url.to_string()];
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (user, hosts) = match authority.rsplit_once('@') {
        Some((user, hosts)) => (format!("{user}@"), hosts),
        None => (String::new(), authority),
    };
    let urls: Vec<String> = hosts
        .split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(|h| format!("{scheme}://{user}{h}{tail}"))
        .collect();
    if urls.len() < 2 {
        return vec![url.to_string()];
    }
    urls
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn one_url_per_host_with_everything_else_kept() {
        assert_eq!(
            split("mysql://o4send:pw@db1:3306,db2:3307, db3/o4send?require_ssl=true"),
            [
                "mysql://o4send:pw@db1:3306/o4send?require_ssl=true",
                "mysql://o4send:pw@db2:3307/o4send?require_ssl=true",
                "mysql://o4send:pw@db3/o4send?require_ssl=true",
            ]
        );
        assert_eq!(split("mysql://a,b/x"), ["mysql://a/x", "mysql://b/x"]);
    }

    #[test]
    fn a_single_host_or_an_odd_url_is_left_alone() {
        for url in [
            "mysql://o4send@db:3306/o4send",
            "nonsense",
            "mysql://u@/db",
            "mysql://u@,/db",
        ] {
            assert_eq!(split(url), [url]);
        }
    }
}
