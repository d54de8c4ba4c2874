package milter

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	gomilter "github.com/d--j/go-milter"
	"github.com/d--j/go-milter/milterutil"
)

// Response codes (SMFIR_*) the loop writes itself.
const (
	respAccept   = 'a'
	respContinue = 'c'
	respProgress = 'p'
	actAddRcpt   = '+'
	actDelRcpt   = '-'
	actAddRcptP  = '2'
	actReplBody  = 'b'
	actAddHeader = 'h'
	actChgHeader = 'm'
	actInsHeader = 'i'
	actQuarant   = 'q'
	actChgFrom   = 'e'
	maxRespData  = int(gomilter.DataSize64K)
)

// negotiate answers the MTA's option negotiation (see negotiate in
// server.go for what is asked) and requests the macros of each stage.
func (c *conn) negotiate(code byte, data []byte) error {
	if code != cmdOptNeg {
		return fmt.Errorf("milter: negotiate: unexpected package with code %c", code)
	}
	if len(data) < 12 {
		return fmt.Errorf("milter: negotiate: unexpected data size: %d", len(data))
	}
	mtaVersion := binary.BigEndian.Uint32(data)
	mtaActions := gomilter.OptAction(binary.BigEndian.Uint32(data[4:]))
	// The data size bits (SMFIP_MDS_256K, SMFIP_MDS_1M) are not options.
	mtaProtocol := gomilter.OptProtocol(binary.BigEndian.Uint32(data[8:])) &^ (1<<28 | 1<<29)
	version, actions, protocol, _, err := negotiate(mtaVersion, 0, mtaActions, 0, mtaProtocol, 0, gomilter.DataSize64K)
	if err != nil {
		return err
	}
	if version < 2 || version > gomilter.MaxServerProtocolVersion {
		return fmt.Errorf("milter: negotiate: unsupported protocol version: %d", version)
	}
	c.version, c.actions, c.protocol = version, actions, protocol
	p := c.begin(cmdOptNeg)
	p = binary.BigEndian.AppendUint32(p, version)
	p = binary.BigEndian.AppendUint32(p, uint32(actions))
	p = binary.BigEndian.AppendUint32(p, uint32(protocol))
	if mtaActions&gomilter.OptSetMacros != 0 {
		p = append(p, macroRequestData...)
	} else {
		c.warn("the MTA cannot be asked for macros (no SMFIF_SETSYMLIST): set its milter macro lists as docs/milter.md says")
	}
	c.out = p
	c.end(0)
	return nil
}

// macroRequestData is the SMFIF_SETSYMLIST part of the negotiation
// answer: per stage, its number and the macro names.
var macroRequestData = func() []byte {
	var p []byte
	for _, r := range macroRequests {
		p = binary.BigEndian.AppendUint32(p, uint32(r.stage))
		p = append(p, strings.Join(r.macros, " ")...)
		p = append(p, 0)
	}
	return p
}()

// begin starts a packet with code at the end of the output; end fills in
// its length. start is where the packet began.
func (c *conn) begin(code byte) []byte {
	return append(c.out, 0, 0, 0, 0, code)
}

func (c *conn) end(start int) {
	binary.BigEndian.PutUint32(c.out[start:], uint32(len(c.out)-start-4))
}

// packet appends one packet to the output.
func (c *conn) packet(code byte, data ...[]byte) {
	start := len(c.out)
	c.out = c.begin(code)
	for _, d := range data {
		c.out = append(c.out, d...)
	}
	c.end(start)
}

// send appends a response to the output.
func (c *conn) send(r *gomilter.Response) error {
	switch r {
	case gomilter.RespContinue:
		c.packet(respContinue)
		return nil
	case gomilter.RespAccept:
		c.packet(respAccept)
		return nil
	}
	m := r.Response()
	if len(m.Data) > maxRespData {
		return fmt.Errorf("milter: invalid data length: %d > %d", len(m.Data), maxRespData)
	}
	c.packet(byte(m.Code), m.Data)
	return nil
}

// answer writes a final response (with anything held before it) at once:
// an inline scan's answer at the scan deadline.
func (c *conn) answer(resp *gomilter.Response) error {
	if err := c.send(resp); err != nil {
		return err
	}
	return c.flush()
}

// flush writes the output in one system call.
func (c *conn) flush() error {
	if err := c.deadline(true, c.srv.o.cfg.WriteTimeout.D()); err != nil {
		return err
	}
	_, err := c.nc.Write(c.out)
	if cap(c.out) > maxHeld {
		c.out = nil
	} else {
		c.out = c.out[:0]
	}
	return err
}

// modify appends a modification; it leaves with the final response of
// the message, or at once past maxHeld bytes.
func (c *conn) modify(code byte, data ...[]byte) error {
	if c.state < modWrite {
		return fmt.Errorf("milter: tried to send action %q in state %d", code, c.state)
	}
	n := 0
	for _, d := range data {
		n += len(d)
	}
	if n > maxRespData {
		return fmt.Errorf("milter: invalid data length: %d > %d", n, maxRespData)
	}
	if len(c.out)+n > maxHeld {
		if err := c.flush(); err != nil {
			return err
		}
	}
	c.packet(code, data...)
	return nil
}

// The conn is the Modifier of its session's callbacks.
var _ gomilter.Modifier = (*conn)(nil)

func (c *conn) Get(name gomilter.MacroName) string { v, _ := c.GetEx(name); return v }
func (c *conn) GetEx(name gomilter.MacroName) (string, bool) {
	return c.macros.get(name)
}
func (c *conn) Version() uint32                { return c.version }
func (c *conn) Protocol() gomilter.OptProtocol { return c.protocol }
func (c *conn) Actions() gomilter.OptAction    { return c.actions }
func (c *conn) MaxDataSize() gomilter.DataSize { return gomilter.DataSize64K }
func (c *conn) MilterId() uint64               { return c.id }

var (
	errNotAllowed = gomilter.ErrModificationNotAllowed
	nul           = []byte{0}
)

func (c *conn) AddRecipient(r, args string) error {
	if c.actions&(gomilter.OptAddRcpt|gomilter.OptAddRcptWithArgs) == 0 ||
		(args != "" && c.actions&gomilter.OptAddRcptWithArgs == 0) {
		return errNotAllowed
	}
	rcpt := []byte(gomilter.AddAngle(milterutil.NewlineToSpace(r)))
	if (args != "" && c.actions&gomilter.OptAddRcptWithArgs != 0) || (args == "" && c.actions&gomilter.OptAddRcpt == 0) {
		if c.version < 6 {
			return gomilter.ErrVersionTooLow
		}
		return c.modify(actAddRcptP, rcpt, nul, []byte(milterutil.NewlineToSpace(args)), nul)
	}
	return c.modify(actAddRcpt, rcpt, nul)
}

func (c *conn) DeleteRecipient(r string) error {
	if c.actions&gomilter.OptRemoveRcpt == 0 {
		return errNotAllowed
	}
	return c.modify(actDelRcpt, []byte(gomilter.AddAngle(milterutil.NewlineToSpace(r))), nul)
}

func (c *conn) ReplaceBodyRawChunk(chunk []byte) error {
	if c.actions&gomilter.OptChangeBody == 0 {
		return errNotAllowed
	}
	return c.modify(actReplBody, chunk)
}

func (c *conn) ReplaceBody(r io.Reader) error {
	buf := make([]byte, maxRespData)
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			if werr := c.ReplaceBodyRawChunk(buf[:n]); werr != nil {
				return werr
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (c *conn) Quarantine(reason string) error {
	if c.actions&gomilter.OptQuarantine == 0 {
		return errNotAllowed
	}
	return c.modify(actQuarant, []byte(milterutil.NewlineToSpace(reason)), nul)
}

func (c *conn) AddHeader(name, value string) error {
	if c.actions&gomilter.OptAddHeader == 0 {
		return errNotAllowed
	}
	if !validHeaderName(name) {
		return fmt.Errorf("milter: invalid header name: %q", name)
	}
	return c.modify(actAddHeader, []byte(name), nul, []byte(milterutil.CrLfToLf(value)), nul)
}

func (c *conn) ChangeHeader(index int, name, value string) error {
	if c.actions&gomilter.OptChangeHeader == 0 {
		return errNotAllowed
	}
	return c.indexedHeader(actChgHeader, index, name, value)
}

func (c *conn) InsertHeader(index int, name, value string) error {
	if c.actions&(gomilter.OptChangeHeader|gomilter.OptAddHeader) == 0 {
		return errNotAllowed
	}
	return c.indexedHeader(actInsHeader, index, name, value)
}

func (c *conn) indexedHeader(code byte, index int, name, value string) error {
	if index < 0 || index > math.MaxUint32 {
		return fmt.Errorf("milter: invalid header index: %d", index)
	}
	if !validHeaderName(name) {
		return fmt.Errorf("milter: invalid header name: %q", name)
	}
	idx := binary.BigEndian.AppendUint32(nil, uint32(index))
	return c.modify(code, idx, []byte(name), nul, []byte(milterutil.CrLfToLf(value)), nul)
}

func (c *conn) ChangeFrom(value, args string) error {
	if c.version < 6 {
		return gomilter.ErrVersionTooLow
	}
	if c.actions&gomilter.OptChangeFrom == 0 {
		return errNotAllowed
	}
	from := []byte(gomilter.AddAngle(milterutil.NewlineToSpace(value)))
	if args == "" {
		return c.modify(actChgFrom, from, nul)
	}
	return c.modify(actChgFrom, from, nul, []byte(milterutil.NewlineToSpace(args)), nul)
}

// Progress is written at once (with anything held before it): the MTA
// needs it while the scan runs.
func (c *conn) Progress() error {
	if c.version < 6 {
		return gomilter.ErrVersionTooLow
	}
	c.packet(respProgress)
	return c.flush()
}

// validHeaderName: printable ASCII without space and colon.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if b := name[i]; b <= ' ' || b >= 0x7f || b == ':' {
			return false
		}
	}
	return true
}

// macroStore holds the macros of each stage as the MTA sent them (name
// NUL value NUL ...), in buffers reused from message to message; a
// lookup walks the stages from the most specific down, as go-milter.
type macroStore struct {
	stages [gomilter.StageEndMarker + 1]struct {
		set  bool
		data []byte
	}
	// Values handed out, so that asking again (the queue ID is asked for
	// at several stages) costs no allocation.
	seen [8]string
	next int
}

// reset empties the store for another connection, keeping its buffers
// unless one grew large.
func (s *macroStore) reset() {
	for i := range s.stages {
		s.stages[i].set = false
		if cap(s.stages[i].data) > 4<<10 {
			s.stages[i].data = nil
		}
	}
	s.seen, s.next = [8]string{}, 0
}

// set replaces the macros of stage and clears those of later stages.
func (s *macroStore) set(stage gomilter.MacroStage, data []byte) {
	s.delFrom(stage)
	if len(data) > 0 && data[len(data)-1] == 0 {
		data = data[:len(data)-1]
	}
	if len(data) == 0 {
		return
	}
	st := &s.stages[stage]
	st.set = true
	st.data = append(st.data[:0], data...)
}

// delFrom clears stage and every stage after it (go-milter's order:
// connect, helo, mail, rcpt, data, EOH, EOM, then command level).
func (s *macroStore) delFrom(stage gomilter.MacroStage) {
	var order = [...]gomilter.MacroStage{gomilter.StageConnect, gomilter.StageHelo, gomilter.StageMail,
		gomilter.StageRcpt, gomilter.StageData, gomilter.StageEOH, gomilter.StageEOM, gomilter.StageEndMarker}
	from := -1
	for i, st := range order {
		if st == stage {
			from = i
		}
	}
	if from < 0 {
		from = len(order) - 1
	}
	for _, st := range order[from:] {
		s.stages[st].set = false
	}
}

func (s *macroStore) get(name string) (string, bool) {
	for i := len(s.stages) - 1; i >= 0; i-- {
		st := &s.stages[i]
		if !st.set {
			continue
		}
		if v, ok := lookupMacro(st.data, name); ok {
			return s.intern(v), true
		}
	}
	return "", false
}

// intern returns v as a string, one handed out before if equal.
func (s *macroStore) intern(v []byte) string {
	for _, x := range s.seen {
		if x == string(v) {
			return x
		}
	}
	x := string(v)
	s.seen[s.next] = x
	s.next = (s.next + 1) % len(s.seen)
	return x
}

// lookupMacro finds name in name NUL value NUL ... pairs; the last one
// wins, as in a map filled in order.
func lookupMacro(d []byte, name string) ([]byte, bool) {
	var found []byte
	ok := false
	for {
		k, rest, more := cstring(d)
		v, next, more2 := cstring(rest)
		if string(k) == name {
			found, ok = v, true
		}
		if !more || !more2 {
			break
		}
		d = next
	}
	return found, ok
}
