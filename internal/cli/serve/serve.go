// Package serve is `olops serve`: run one model as a web service.
package serve

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"

	"github.com/olops/olops/internal/cli/cmdutil"
	"github.com/olops/olops/internal/client"
	"github.com/olops/olops/internal/config"
	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/server"
	"github.com/spf13/cobra"
)

type options struct {
	configPath      string
	dataDir         string
	publicAddr      string
	managementAddr  string
	tlsCert, tlsKey string
	publicToken     string
	managementToken string
	model, target   string
	task            string
	logLevel        string
	noContext       bool
	name            string
}

// NewCmd returns the serve command.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	o := &options{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a model server: public API (predict, learn) and management API",
		Long: `Run one online model as a web service.

The public API (default :8080) predicts and learns; the management API
(default :9090) shows metrics, drift and versions and changes the model.
Learned state lives in --data-dir: every acknowledged learn is durable, and
a restart continues exactly where the model was.

Tokens: --public-token / --management-token, else OLOPS_PUBLIC_TOKEN /
OLOPS_MANAGEMENT_TOKEN, else the files named in the config
(spec.server.publicTokenFile, managementTokenFile). Flags beat the
environment, the environment beats the config.

The server writes a context (see 'olops status') pointing at itself, and
logs JSON lines to stdout.`,
		Example: `  olops serve --config olops.yaml
  olops serve --model logreg --target is_phishing --data-dir /tmp/phish
  OLOPS_MANAGEMENT_TOKEN=s3cret olops serve -c olops.yaml --public-addr :8080`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd.Context(), f, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.configPath, "config", "c", "", "the model's olops.yaml (default ./olops.yaml when it exists)")
	fl.StringVar(&o.dataDir, "data-dir", ".olops", "directory of the durable state (event log, snapshots, versions)")
	fl.StringVar(&o.publicAddr, "public-addr", "", "public API address (default the config's, else :8080)")
	fl.StringVar(&o.managementAddr, "management-addr", "", "management API address (default the config's, else :9090)")
	fl.StringVar(&o.tlsCert, "tls-cert", "", "TLS certificate file (PEM); serve HTTPS with --tls-key")
	fl.StringVar(&o.tlsKey, "tls-key", "", "TLS private key file (PEM)")
	fl.StringVar(&o.publicToken, "public-token", "", "bearer token of the public API (default $OLOPS_PUBLIC_TOKEN)")
	fl.StringVar(&o.managementToken, "management-token", "", "bearer token of the management API (default $OLOPS_MANAGEMENT_TOKEN)")
	fl.StringVar(&o.model, "model", "", "without a config: the model to serve (e.g. logreg, hoeffding, arf, linreg)")
	fl.StringVar(&o.target, "target", "", "without a config: the label's name (the column to predict)")
	fl.StringVar(&o.task, "task", "", "without a config: binary, multiclass or regression (default from the model)")
	fl.StringVar(&o.logLevel, "log-level", "info", "log level: debug (one line per request), info, warn or error")
	fl.BoolVar(&o.noContext, "no-context", false, "do not write a context for other olops commands")
	fl.StringVar(&o.name, "name", "", "the model's name, instead of the config's metadata.name")
	return cmd
}

func loadConfig(o *options) (*config.Config, error) {
	if o.configPath == "" && o.model == "" {
		if _, err := os.Stat("olops.yaml"); err == nil {
			o.configPath = "olops.yaml"
		} else {
			return nil, cmdutil.Usage("no model to serve: give --config olops.yaml (see 'olops init') or --model NAME --target COLUMN")
		}
	}
	if o.configPath != "" {
		if o.model != "" || o.target != "" || o.task != "" {
			return nil, cmdutil.Usage("--model, --target and --task are for serving without a config: put them in %s instead", o.configPath)
		}
		return config.Load(o.configPath)
	}
	if o.target == "" {
		return nil, cmdutil.Usage("--model needs --target: the name of the label column")
	}
	c := config.Default(o.model, o.target, learn.Task(o.task))
	if err := c.Validate(); err != nil {
		return nil, cmdutil.Usage("%v", err)
	}
	return c, nil
}

func token(flag, env, file string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if env != "" {
		return env, nil
	}
	if file == "" {
		return "", nil
	}
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("token file %s does not exist: create it or remove it from the config", file)
	}
	if err != nil {
		return "", fmt.Errorf("read token file: %w", err)
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", fmt.Errorf("token file %s is empty", file)
	}
	return t, nil
}

func run(ctx context.Context, f *cmdutil.Factory, o *options) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return cmdutil.Usage("unknown --log-level %q: use debug, info, warn or error", o.logLevel)
	}
	cfg, err := loadConfig(o)
	if err != nil {
		return err
	}
	if o.name != "" {
		// olops deploy --name runs one config under several names.
		cfg.Metadata.Name = o.name
		if err := cfg.Validate(); err != nil {
			return cmdutil.Usage("--name: %v", err)
		}
	}
	pub, err := token(o.publicToken, f.Getenv("OLOPS_PUBLIC_TOKEN"), cfg.Spec.Server.PublicTokenFile)
	if err != nil {
		return err
	}
	mgmt, err := token(o.managementToken, f.Getenv("OLOPS_MANAGEMENT_TOKEN"), cfg.Spec.Server.ManagementTokenFile)
	if err != nil {
		return err
	}
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return cmdutil.Usage("--tls-cert and --tls-key go together")
	}
	tlsCert, tlsKey := o.tlsCert, o.tlsKey
	if tlsCert == "" {
		tlsCert, tlsKey = cfg.Spec.Server.TLSCert, cfg.Spec.Server.TLSKey
	}
	log := slog.New(slog.NewJSONHandler(f.IO.Out, &slog.HandlerOptions{Level: level}))
	srv, err := server.New(ctx, cfg, server.Options{
		DataDir:         o.dataDir,
		PublicAddr:      o.publicAddr,
		ManagementAddr:  o.managementAddr,
		PublicToken:     pub,
		ManagementToken: mgmt,
		TLSCert:         tlsCert,
		TLSKey:          tlsKey,
		Logger:          log,
		OnListen: func(pubURL, mgmtURL string) {
			if o.noContext {
				return
			}
			path, err := client.ContextPath(f.Getenv)
			if err == nil {
				err = client.SaveContext(path, client.Context{
					Name: cfg.Metadata.Name, PublicURL: pubURL, ManagementURL: mgmtURL,
					PublicToken: pub, ManagementToken: mgmt,
				})
			}
			if err != nil {
				log.Warn("could not write the context: other olops commands need --url", "err", err)
				return
			}
			log.Info("context written", "name", cfg.Metadata.Name, "path", path)
		},
	})
	if err != nil {
		return err
	}
	return srv.Run(ctx)
}
