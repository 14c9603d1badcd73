/*
Copyright 2026 The cpnp-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package pki_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/cpnp-dev/cpnp-operator/pkg/cpnp/pki"
)

// ExampleInitDir is what `cpnpctl certs init DIR` does: a CA, a server
// certificate for localhost and a client certificate for the tenant "acme",
// ready for `cpnp-server --tls-cert server.crt --tls-key server.key
// --client-ca ca.crt` (DESIGN §6).
func ExampleInitDir() {
	tmp, err := os.MkdirTemp("", "cpnp-certs-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(tmp)

	files, err := pki.InitDir(filepath.Join(tmp, "certs"), pki.InitOptions{
		Clients: []pki.ClientSpec{{Name: "globex", URISAN: "spiffe://cpnp.dev/ns/globex"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(filepath.Base(files.CACert), filepath.Base(files.ServerCert), filepath.Base(files.ServerKey))
	for _, c := range files.Clients {
		fmt.Printf("%s: %s %s identity %q\n", c.Name, filepath.Base(c.Cert), filepath.Base(c.Key), c.Identity)
	}
	// A second run refuses to overwrite.
	_, err = pki.InitDir(files.Dir, pki.InitOptions{})
	fmt.Println(err != nil)
	// Output:
	// ca.crt server.crt server.key
	// client: client.crt client.key identity "acme"
	// globex: globex.crt globex.key identity "spiffe://cpnp.dev/ns/globex"
	// true
}
