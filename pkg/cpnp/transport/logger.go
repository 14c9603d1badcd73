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

package transport

import (
	"fmt"

	"github.com/go-logr/logr"
	"github.com/pion/logging"
)

// Log levels of pion's messages (STYLE §8: V(4) per datagram). pion logs
// peer misbehaviour as errors and warnings; here they are debug output, not
// operator-facing errors, so they start at V(4).
const (
	pionErrorLevel = 4
	pionInfoLevel  = 4
	pionDebugLevel = 5
	pionTraceLevel = 6
)

// pionLoggerFactory adapts a logr.Logger to pion's logging.LoggerFactory.
type pionLoggerFactory struct {
	log logr.Logger
}

// NewLogger implements logging.LoggerFactory.
func (f pionLoggerFactory) NewLogger(scope string) logging.LeveledLogger {
	if !f.log.V(pionErrorLevel).Enabled() {
		return pionLogger{} // nothing below is enabled: skip WithName
	}
	return pionLogger{log: f.log.WithName("pion-" + scope), enabled: true}
}

// pionLogger implements logging.LeveledLogger on a logr.Logger.
type pionLogger struct {
	log     logr.Logger
	enabled bool
}

func (l pionLogger) at(level int, msg string) {
	if l.enabled {
		l.log.V(level).Info(msg)
	}
}

func (l pionLogger) atf(level int, format string, args ...any) {
	if l.enabled && l.log.V(level).Enabled() {
		l.log.V(level).Info(fmt.Sprintf(format, args...))
	}
}

func (l pionLogger) Trace(msg string)                  { l.at(pionTraceLevel, msg) }
func (l pionLogger) Tracef(format string, args ...any) { l.atf(pionTraceLevel, format, args...) }
func (l pionLogger) Debug(msg string)                  { l.at(pionDebugLevel, msg) }
func (l pionLogger) Debugf(format string, args ...any) { l.atf(pionDebugLevel, format, args...) }
func (l pionLogger) Info(msg string)                   { l.at(pionInfoLevel, msg) }
func (l pionLogger) Infof(format string, args ...any)  { l.atf(pionInfoLevel, format, args...) }
func (l pionLogger) Warn(msg string)                   { l.at(pionErrorLevel, msg) }
func (l pionLogger) Warnf(format string, args ...any)  { l.atf(pionErrorLevel, format, args...) }
func (l pionLogger) Error(msg string)                  { l.at(pionErrorLevel, msg) }
func (l pionLogger) Errorf(format string, args ...any) { l.atf(pionErrorLevel, format, args...) }
