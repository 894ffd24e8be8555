//! Listing every person for the sync: the user filter under the user base, read in pages
//! (RFC 2696 simple paged results), so a directory's size limit — AD answers at most 1000
//! entries to one search, OpenLDAP's `sizelimit` defaults to 500 — does not silently cut the
//! list and make the sync think the rest were removed. Groups come from `memberOf`, or, for a
//! directory without it, from one listing of all groups inverted, rather than a group search
//! per person.

use super::entry::{self, dn_key, group_name};
use super::ldap::{LdapDirectory, classify};
use super::{DirectoryError, DirectoryPerson};
use ldap3::adapters::PagedResults;
use ldap3::{Ldap, Scope, SearchEntry};
use std::collections::{BTreeSet, HashMap};

impl LdapDirectory {
    /// Every person the user filter matches, on a connection bound as the service account.
    pub(super) async fn list_people(
        &self,
        ldap: &mut Ldap,
    ) -> Result<Vec<DirectoryPerson>, DirectoryError> {
        let c = self.config();
        let a = &c.attributes;
        let entries = self
            .paged(ldap, &c.user_base, c.user_filter.trim(), entry::wanted(a))
            .await?;
        let members = match (&a.member_of, member_attribute(&c.group_filter)) {
            (Some(_), _) => None,
            (None, Some(attribute)) => Some(self.group_members(ldap, &attribute).await?),
            // A group filter this code cannot turn around: one search per person, as `find`.
            (None, None) => None,
        };
        let mut people = Vec::with_capacity(entries.len());
        for found in entries {
            let groups = match (&a.member_of, &members) {
                (Some(_), _) => Vec::new(),
                (None, Some(members)) => members
                    .get(&dn_key(&found.dn))
                    .map(|g| g.iter().cloned().collect())
                    .unwrap_or_default(),
                (None, None) => self.groups_of(ldap, &found.dn).await?,
            };
            // An entry without the username attribute cannot be matched to an account.
            if let Some(person) = entry::person(found, a, None, groups) {
                people.push(person);
            }
        }
        Ok(people)
    }

    /// Each member's DN (in `dn_key` spelling) with the names of their groups, from one
    /// paged listing of the groups the group filter would find for anyone.
    async fn group_members(
        &self,
        ldap: &mut Ldap,
        attribute: &str,
    ) -> Result<HashMap<String, BTreeSet<String>>, DirectoryError> {
        let c = self.config();
        let base = c.group_base.as_deref().unwrap_or(&c.user_base);
        // `(member={dn})` → `(member=*)`: every group with any member.
        let filter = c.group_filter.trim().replace("{dn}", "*");
        let groups = self
            .paged(ldap, base, &filter, vec![attribute.to_string()])
            .await?;
        let mut members: HashMap<String, BTreeSet<String>> = HashMap::new();
        for group in groups {
            let Some(name) = group_name(&group.dn) else {
                continue;
            };
            let values = group
                .attrs
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(attribute))
                .flat_map(|(_, v)| v);
            for member in values {
                members
                    .entry(dn_key(member))
                    .or_default()
                    .insert(name.clone());
            }
        }
        Ok(members)
    }

    /// All entries of a subtree search, page by page, each page bounded by the operation
    /// timeout. Any failure, a size or time limit included, fails the whole listing: a
    /// partial list must never reach the sync.
    async fn paged(
        &self,
        ldap: &mut Ldap,
        base: &str,
        filter: &str,
        attrs: Vec<String>,
    ) -> Result<Vec<SearchEntry>, DirectoryError> {
        let mut stream = ldap
            .with_timeout(self.config().operation_timeout)
            .streaming_search_with(
                PagedResults::new(self.page_size),
                base,
                Scope::Subtree,
                filter,
                attrs,
            )
            .await
            .map_err(classify)?;
        let mut entries = Vec::new();
        loop {
            match stream.next().await {
                Ok(Some(found)) if found.is_ref() || found.is_intermediate() => {}
                Ok(Some(found)) => entries.push(SearchEntry::construct(found)),
                Ok(None) => break,
                Err(e) => {
                    let _ = stream.finish().await;
                    return Err(classify(e));
                }
            }
        }
        stream.finish().await.success().map_err(classify)?;
        Ok(entries)
    }
}

/// The attribute a group filter matches the person's DN with: `member` in
/// `(&(objectClass=groupOfNames)(member={dn}))`. `None` when `{dn}` appears more than once
/// or not as a plain `(attribute={dn})`.
fn member_attribute(filter: &str) -> Option<String> {
    if filter.matches("{dn}").count() != 1 {
        return None;
    }
    let at = filter.find("={dn})")?;
    let open = filter[..at].rfind('(')?;
    let attribute = &filter[open + 1..at];
    (!attribute.is_empty()
        && attribute
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ';'))
    .then(|| attribute.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_member_attribute_is_read_from_the_group_filter() {
        assert_eq!(
            member_attribute("(&(objectClass=groupOfNames)(member={dn}))").as_deref(),
            Some("member")
        );
        assert_eq!(
            member_attribute("(&(objectClass=groupOfUniqueNames)(uniqueMember={dn}))").as_deref(),
            Some("uniqueMember")
        );
        assert_eq!(
            member_attribute("(|(member={dn})(uniqueMember={dn}))"),
            None
        );
        assert_eq!(member_attribute("(member:dn:={dn})"), None);
    }
}
