// Package catalog holds table and index definitions and persists them in the
// store under keycodec.CatalogKey(name), one JSON document per table.
//
// Guarantees: a *Table handed out is immutable (changes copy it and swap the
// pointer under the catalog's lock), so readers need no lock; a change is in
// the store before it is visible; table ids are never reused, so a table
// dropped and re-created gets a new id, a new key range and a new stream.
package catalog
