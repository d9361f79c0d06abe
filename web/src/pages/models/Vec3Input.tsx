// Three numbers (per-channel mean or std) as one form control.
import { InputNumber, Space } from 'antd';

interface Props {
  id?: string;
  value?: number[];
  onChange?: (v: number[]) => void;
  labels: [string, string, string];
  min?: number;
}

export default function Vec3Input({ id, value = [0, 0, 0], onChange, labels, min }: Props) {
  const set = (i: number, x: number | null) => {
    const next = [...value];
    next[i] = x ?? 0;
    onChange?.(next);
  };
  return (
    <Space.Compact>
      {[0, 1, 2].map((i) => (
        <InputNumber
          key={i}
          id={i === 0 ? id : undefined}
          aria-label={labels[i]}
          value={value[i]}
          min={min}
          step={0.001}
          style={{ width: 100 }}
          onChange={(x) => set(i, x)}
        />
      ))}
    </Space.Compact>
  );
}
