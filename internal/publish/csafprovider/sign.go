// SPDX-License-Identifier: Apache-2.0

package csafprovider

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
)

// readSigningKey reads one armored OpenPGP private key and unlocks it.
// Errors never quote the key or the passphrase.
func readSigningKey(armored, passphrase []byte) (*openpgp.Entity, error) {
	ents, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(armored))
	if err != nil {
		return nil, fmt.Errorf("signing key: not an armored OpenPGP key: %w", err)
	}
	if len(ents) != 1 {
		return nil, fmt.Errorf("signing key: %d keys in the file; give exactly one", len(ents))
	}
	e := ents[0]
	if e.PrivateKey == nil {
		return nil, errors.New("signing key: the file holds a public key; give the private key")
	}
	if e.PrivateKey.Encrypted {
		if len(passphrase) == 0 {
			return nil, errors.New("signing key: it is protected by a passphrase; give the passphrase")
		}
		if err := e.DecryptPrivateKeys(passphrase); err != nil {
			return nil, errors.New("signing key: the passphrase does not unlock it")
		}
	}
	if _, ok := e.SigningKey(time.Now()); !ok {
		return nil, errors.New("signing key: it has no valid signing key (expired or revoked?)")
	}
	return e, nil
}

// armorPublicKey writes the public half of e, armored.
func armorPublicKey(w io.Writer, e *openpgp.Entity) error {
	aw, err := armor.Encode(w, openpgp.PublicKeyType, nil)
	if err != nil {
		return err
	}
	if err := e.Serialize(aw); err != nil {
		return fmt.Errorf("public key: %w", err)
	}
	if err := aw.Close(); err != nil {
		return err
	}
	_, err = io.WriteString(w, "\n")
	return err
}
