// The ECharts the dashboard serves from its own origin (`/vendor/echarts.min.js`): only what
// the history chart draws with (bar and line series on a grid, axis tooltip, legend,
// dataset, canvas renderer), exposed as the global `echarts` that charming's WASM renderer
// calls (`echarts.init`, then the instance's `setOption`, `resize`, `dispose`). Built by
// `make setup` with esbuild; the full 5.5.1 bundle is 270 725 bytes with brotli.
import * as echarts from 'echarts/core';
import { BarChart, LineChart } from 'echarts/charts';
import {
  DatasetComponent,
  GridComponent,
  LegendComponent,
  TooltipComponent,
} from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([
  BarChart,
  LineChart,
  DatasetComponent,
  GridComponent,
  LegendComponent,
  TooltipComponent,
  CanvasRenderer,
]);

globalThis.echarts = echarts;
