// SPDX-License-Identifier: Apache-2.0

package csafprovider

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/routerwatch/routerwatch/internal/advisory/datastore"
	"github.com/routerwatch/routerwatch/internal/testutil"
)

// testSigningKey makes a fresh Ed25519 OpenPGP key, armored, optionally
// protected by a passphrase.
func testSigningKey(t testing.TB, passphrase ...byte) []byte {
	t.Helper()
	e, err := openpgp.NewEntity("routerwatch test", "", "csaf@routerwatch.example", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	if len(passphrase) > 0 {
		if err := e.EncryptPrivateKeys(passphrase, nil); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	w, err := armor.Encode(&b, openpgp.PrivateKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(passphrase) > 0 {
		err = e.SerializePrivateWithoutSigning(w, nil)
	} else {
		err = e.SerializePrivate(w, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	return b.Bytes()
}

// sharedStore imports the shared CISA CSAF advisories (TLP:WHITE) into a
// fresh advisory store, as `advisories import` does.
func sharedStore(t testing.TB) *datastore.Store {
	t.Helper()
	shared := testutil.SharedData(t)
	files, err := filepath.Glob(filepath.Join(shared, "csaf", "cisa", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no shared CISA advisories (%v)", err)
	}
	var items []datastore.Item
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		p, err := datastore.Parse(b, f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		items = append(items, p.Item)
	}
	s := datastore.New(t.TempDir())
	if _, err := s.Put(items, nil); err != nil {
		t.Fatal(err)
	}
	return s
}

// sourcesWithSharedStore is the built-in documents and the shared CISA
// advisories from a store.
func sourcesWithSharedStore(t testing.TB) []Document {
	t.Helper()
	docs, err := Sources(sharedStore(t), true)
	if err != nil {
		t.Fatal(err)
	}
	return docs
}
