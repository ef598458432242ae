// Package predict is `olops predict` and `olops learn`: one call to the
// public API, for trying a model by hand or from a script.
package predict

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/olops/olops/internal/api"
	"github.com/olops/olops/internal/cli/cmdutil"
	"github.com/olops/olops/internal/cli/remote"
	"github.com/olops/olops/internal/cli/ui"
	"github.com/spf13/cobra"
)

// NewCmd returns `olops predict`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	fl := &remote.Flags{}
	var id string
	cmd := &cobra.Command{
		Use:   "predict JSON",
		Short: "Predict one sample (or a batch) with the served model",
		Long: `Predict with the served model. JSON is the sample's features as an
object, a whole /v1/predict request ({"features": {...}} or
{"instances": [{...}, ...]}), or '-' to read it from standard input.
The reply's id can later carry the sample's label: olops learn --id ID LABEL.`,
		Example: `  olops predict '{"x1": 0.4, "x2": 7.1, "x3": 2.0}'
  olops predict '{"instances": [{"x1": 1}, {"x1": 2}]}' -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req, err := readRequest(f, args[0])
			if err != nil {
				return err
			}
			if id != "" {
				req.ID = id
			}
			c, err := fl.Client(f)
			if err != nil {
				return err
			}
			var preds []api.Prediction
			var out any
			if len(req.Instances) > 0 {
				b, err := c.PredictBatch(cmd.Context(), req.Instances)
				if err != nil {
					return err
				}
				preds, out = b.Predictions, b
			} else {
				p, err := c.Predict(cmd.Context(), req)
				if err != nil {
					return err
				}
				preds, out = []api.Prediction{*p}, p
			}
			return cmdutil.Print(f.IO.Out, fl.Output, out, func(w io.Writer) error { return printPredictions(w, preds) })
		},
	}
	cmd.Flags().StringVar(&id, "id", "", "the prediction's id (default: the server makes one)")
	fl.Add(cmd, true)
	return cmd
}

// readRequest reads the JSON argument: features, or a whole request.
func readRequest(f *cmdutil.Factory, arg string) (api.PredictRequest, error) {
	var req api.PredictRequest
	b := []byte(arg)
	if arg == "-" {
		var err error
		if b, err = io.ReadAll(f.IO.In); err != nil {
			return req, err
		}
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return req, cmdutil.Usage("the sample is not a JSON object (%v): write it like '{\"x1\": 0.4, \"color\": \"red\"}'", err)
	}
	_, hasF := obj["features"]
	_, hasI := obj["instances"]
	if hasF || hasI {
		if err := json.Unmarshal(b, &req); err != nil {
			return req, cmdutil.Usage("the request is not a /v1/predict body: %v", err)
		}
		return req, nil
	}
	var feats api.Features
	if err := json.Unmarshal(b, &feats); err != nil {
		return req, cmdutil.Usage("the sample's features: %v", err)
	}
	req.Features = feats
	return req, nil
}

func printPredictions(w io.Writer, ps []api.Prediction) error {
	rows := make([][]string, 0, len(ps))
	for _, p := range ps {
		pred := "-"
		switch v := p.Prediction.(type) {
		case nil:
		case string:
			pred = v
		case float64:
			pred = strconv.FormatFloat(v, 'g', -1, 64)
		default:
			pred = fmt.Sprint(v)
		}
		var proba []string
		for _, k := range ui.Keys(p.Proba) {
			proba = append(proba, k+"="+ui.Num(p.Proba[k]))
		}
		rows = append(rows, []string{p.ID, pred, strings.Join(proba, " "), strconv.Itoa(p.ModelVersion)})
	}
	return ui.Table(w, []string{"id", "prediction", "proba", "version"}, rows)
}

// NewCmdLearn returns `olops learn`.
func NewCmdLearn(f *cmdutil.Factory) *cobra.Command {
	fl := &remote.Flags{}
	var id string
	cmd := &cobra.Command{
		Use:   "learn [JSON] LABEL",
		Short: "Teach the served model one labelled sample (or label an earlier prediction)",
		Long: `Teach the served model one sample: JSON is its features (or '-' for
standard input), LABEL its label. With --id, only LABEL is given: it labels
the earlier prediction with that id (a label that arrives late). The reply
comes once the event is durable.`,
		Example: `  olops learn '{"x1": 0.4, "x2": 7.1}' 1
  olops learn --id 5f2c0a 0`,
		Args: func(cmd *cobra.Command, args []string) error {
			if id != "" {
				return cobra.ExactArgs(1)(cmd, args)
			}
			return cobra.ExactArgs(2)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			req := api.LearnRequest{ID: id, Label: args[len(args)-1]}
			if id == "" {
				p, err := readRequest(f, args[0])
				if err != nil {
					return err
				}
				if p.Features == nil {
					return cmdutil.Usage("learn takes one sample's features, not a batch")
				}
				req.Features = p.Features
			}
			c, err := fl.Client(f)
			if err != nil {
				return err
			}
			r, err := c.Learn(cmd.Context(), req)
			if err != nil {
				return err
			}
			return cmdutil.Print(f.IO.Out, fl.Output, r, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "learned: event %d, model version %d\n", r.Seq, r.ModelVersion)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&id, "id", "", "label the earlier prediction with this id instead of sending features")
	fl.Add(cmd, true)
	return cmd
}
