package integration

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/maildlp/maildlp/internal/testutil"
)

var (
	// repoRoot is the maildlp repository (the parent of integration/).
	repoRoot string
	// maildlpBin is the binary under test, built by TestMain.
	maildlpBin string
	// envProblem says why the environment cannot run these tests ("" when it can).
	envProblem string
	// buildProblem says why the maildlp binary could not be built.
	buildProblem string
)

func TestMain(m *testing.M) {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	repoRoot = filepath.Dir(wd)
	envProblem = checkEnv()
	if envProblem == "" {
		buildProblem = buildMaildlp()
	}
	os.Exit(m.Run())
}

// checkEnv reports what is missing to run Postfix-based tests.
func checkEnv() string {
	if runtime.GOOS != "linux" {
		return "integration tests need Linux"
	}
	if os.Geteuid() != 0 {
		return "integration tests need root (Postfix instances run as root and drop to the postfix user)"
	}
	for _, tool := range []string{"postfix", "postconf", "postqueue", "postsuper"} {
		if _, err := exec.LookPath(tool); err != nil {
			if _, err2 := os.Stat("/usr/sbin/" + tool); err2 != nil {
				return tool + " not installed (run scripts/deps.sh integration)"
			}
		}
	}
	return ""
}

// buildMaildlp builds bin/maildlp the way `make build` does. The go build
// cache makes this cheap when the binary is current.
func buildMaildlp() string {
	if p := os.Getenv("MAILDLP_BIN"); p != "" {
		maildlpBin = p
		return ""
	}
	maildlpBin = filepath.Join(repoRoot, "bin", "maildlp")
	cmd := exec.Command("go", "build", "-trimpath", "-o", maildlpBin, "./cmd/maildlp")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Sprintf("go build ./cmd/maildlp: %v\n%s", err, out)
	}
	return ""
}

// inCI reports whether missing prerequisites must fail rather than skip.
func inCI() bool {
	v, _ := strconv.ParseBool(os.Getenv("CI"))
	return v
}

// needEnv stops t when Postfix cannot be run here: a failure under CI, a
// skip otherwise.
func needEnv(t testing.TB) {
	t.Helper()
	if envProblem == "" {
		return
	}
	if inCI() {
		t.Fatalf("CI=true but %s", envProblem)
	}
	t.Skip(envProblem)
}

// needMaildlp is needEnv plus a built maildlp binary.
func needMaildlp(t testing.TB) {
	t.Helper()
	needEnv(t)
	if buildProblem != "" {
		t.Fatal(buildProblem)
	}
}

// needTool fails (CI) or skips when an executable is missing.
func needTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return filepath.Join(dir, name)
		}
	}
	if inCI() {
		t.Fatalf("CI=true but %s is not installed (scripts/deps.sh integration)", name)
	}
	t.Skipf("%s not installed", name)
	return ""
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen 127.0.0.1:0: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitTCP waits until something accepts connections on addr.
func waitTCP(addr string, timeout time.Duration) bool {
	return testutil.Poll(timeout, func() bool {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
}

// waitUnix waits until something accepts connections on the unix socket path.
func waitUnix(path string, timeout time.Duration) bool {
	return testutil.Poll(timeout, func() bool {
		c, err := net.DialTimeout("unix", path, 200*time.Millisecond)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
}

// tempDir makes a temporary directory the postfix user can traverse.
func tempDir(t testing.TB, pattern string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !t.Failed() || os.Getenv("MAILDLP_KEEP") == "" {
			os.RemoveAll(dir)
		}
	})
	return dir
}
